/* screen_dashboard.c: the live pipeline: hops with counters and rates, sparkline, panels. */
#include "console.h"

#include <curses.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The hops of the pipeline, as rows: label and up to three counters shown under it. */
struct hop {
	const char *label;      /* "λ" is replaced by the glyph set's lambda */
	int lambda;             /* label is lambda + this digit (0: plain label) */
	struct {
		const char *name;
		enum tui_counter_id id;
	} c[3];
};

static const struct hop hops[] = {
	{ "API", 0, { { "sent", TUI_C_SENT }, { NULL, TUI_C_COUNT }, { NULL, TUI_C_COUNT } } },
	{ "SQS", 0, { { "vis", TUI_C_VISIBLE }, { "fly", TUI_C_INFLIGHT }, { "dlq", TUI_C_DLQ } } },
	{ NULL, 1, { { "inv", TUI_C_L1_INVOKE }, { "err", TUI_C_L1_ERRORS }, { NULL, TUI_C_COUNT } } },
	{ "DynamoDB", 0, { { "items", TUI_C_ITEMS }, { NULL, TUI_C_COUNT }, { NULL, TUI_C_COUNT } } },
	{ "stream", 0, { { "rec", TUI_C_STREAM }, { NULL, TUI_C_COUNT }, { NULL, TUI_C_COUNT } } },
	{ NULL, 2, { { "inv", TUI_C_L2_INVOKE }, { "err", TUI_C_L2_ERRORS }, { NULL, TUI_C_COUNT } } },
	{ "SNS", 0, { { "pub", TUI_C_PUBLISHED }, { "dlv", TUI_C_DELIVERIES }, { NULL, TUI_C_COUNT } } },
	{ "email", 0, { { NULL, TUI_C_COUNT }, { NULL, TUI_C_COUNT }, { NULL, TUI_C_COUNT } } },
};
enum { NHOPS = sizeof(hops) / sizeof(hops[0]) };

/* The panels, as rows: title and where its lines come from in the snapshot. */
static const struct {
	const char *title;
	size_t offset; /* of the struct tui_list in struct tui_snapshot */
} panels[TUI_P_COUNT] = {
	[TUI_P_ITEMS] = { "DynamoDB items (newest)", offsetof(struct tui_snapshot, items) },
	[TUI_P_STREAM] = { "stream records", offsetof(struct tui_snapshot, stream) },
	[TUI_P_DELIVERIES] = { "SNS deliveries", offsetof(struct tui_snapshot, deliveries) },
	[TUI_P_LOGS] = { "Lambda logs", offsetof(struct tui_snapshot, logs) },
	[TUI_P_EVENTS] = { "events", offsetof(struct tui_snapshot, events) },
};

static const struct tui_list *panel_list(const struct tui_ui *ui, enum tui_panel p)
{
	return (const struct tui_list *)((const char *)&ui->snap + panels[p].offset);
}

/* Does line pass the log filter (case-insensitive substring)? */
static int passes(const struct tui_ui *ui, enum tui_panel p, const char *line)
{
	if (p != TUI_P_LOGS || ui->filter.len == 0)
		return 1;
	return strcasestr(line, ui->filter.text) != NULL;
}

static void draw_flow(struct tui_ui *ui)
{
	const struct tui_snapshot *s = &ui->snap;
	int w = (ui->dr.cols - (NHOPS - 1)) / NHOPS;

	for (int i = 0; i < NHOPS; i++) {
		int x = i * (w + 1), k;
		char label[32];

		if (hops[i].lambda)
			snprintf(label, sizeof(label), "%s%d", ui->dr.g->lambda, hops[i].lambda);
		else
			snprintf(label, sizeof(label), "%s", hops[i].label);
		tui_text(&ui->dr, 2, x, w, TUI_R_TITLE, label);
		if (i < NHOPS - 1)
			tui_text(&ui->dr, 2, x + w, 1, TUI_R_DIM, ui->dr.g->arrow);
		for (k = 0; k < 3 && hops[i].c[k].name; k++) {
			const struct tui_counter *c = &s->counter[hops[i].c[k].id];
			char v[16];

			if (!c->avail) {
				tui_textf(&ui->dr, 3 + k, x, w, TUI_R_DIM, "%s n/a", hops[i].c[k].name);
				continue;
			}
			tui_fmt_count(c->value, v, sizeof(v));
			tui_textf(&ui->dr, 3 + k, x, w,
				  hops[i].c[k].id == TUI_C_DLQ && c->value > 0 ? TUI_R_ERR : TUI_R_NORMAL,
				  "%s %s", hops[i].c[k].name, v);
		}
		if (k > 0 && k < 3 && s->counter[hops[i].c[0].id].avail) /* the first one's rate */
			tui_textf(&ui->dr, 3 + k, x, w, TUI_R_DIM, "%.1f/s",
				  s->counter[hops[i].c[0].id].rate);
		if (i == NHOPS - 1)
			tui_text(&ui->dr, 3, x, w, TUI_R_NORMAL, s->subscription);
	}
}

static void draw_spark(struct tui_ui *ui)
{
	char line[TUI_SPARK_MAX * 4 + 1];
	int maxv = 0, width = ui->dr.cols - 30;

	for (int i = 0; i < ui->snap.nspark; i++)
		if (ui->snap.spark[i] > maxv)
			maxv = ui->snap.spark[i];
	tui_textf(&ui->dr, 6, 0, 20, TUI_R_DIM, "queue depth (max %d)", maxv);
	tui_text(&ui->dr, 6, 22, width, TUI_R_OK,
		 tui_sparkline(ui->dr.g, ui->snap.spark, ui->snap.nspark, width, line, sizeof(line)));
}

static void draw_panel(struct tui_ui *ui, enum tui_panel p, int y, int x, int h, int w)
{
	const struct tui_list *l = panel_list(ui, p);
	char title[400];
	int row = y + 1, skip = ui->scroll[p], shown = 0;

	if (p == TUI_P_LOGS && (ui->filter.len || ui->filtering))
		snprintf(title, sizeof(title), "%s /%s%s", panels[p].title, ui->filter.text,
			 ui->filtering ? "_" : "");
	else
		snprintf(title, sizeof(title), "%s", panels[p].title);
	tui_box(&ui->dr, y, x, h, w, NULL, ui->panel == p ? TUI_R_TITLE : TUI_R_DIM);
	tui_textf(&ui->dr, y, x + 2, w - 4, ui->panel == p ? TUI_R_SEL : TUI_R_TITLE, " %s ", title);
	for (int i = 0; i < l->n && row < y + h - 1; i++) {
		if (!passes(ui, p, l->line[i]))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		tui_text(&ui->dr, row++, x + 1, w - 2, TUI_R_NORMAL, l->line[i]);
		shown++;
	}
	if (shown == 0 && l->n == 0 && p != TUI_P_EVENTS && p != TUI_P_ITEMS && ui->snap.unavailable[0])
		tui_text(&ui->dr, y + 1, x + 1, w - 2, TUI_R_DIM, ui->snap.unavailable);
	else if (shown == 0)
		tui_text(&ui->dr, y + 1, x + 1, w - 2, TUI_R_DIM, "(nothing yet)");
}

/* Where the panels are: y, x, h, w of each (the layout is in one place, for drawing and
 * for the mouse). */
static void panel_rects(const struct tui_ui *ui, int rect[TUI_P_COUNT][4])
{
	int top = 8, rows = ui->dr.rows - 1 - top, cols = ui->dr.cols;
	int h1 = rows / 2, h2 = rows - h1, half = cols / 2, quarter = (cols - half) / 2;
	const int r[TUI_P_COUNT][4] = {
		[TUI_P_ITEMS] = { top, 0, h1, half },
		[TUI_P_STREAM] = { top, half, h1, quarter },
		[TUI_P_DELIVERIES] = { top, half + quarter, h1, cols - half - quarter },
		[TUI_P_LOGS] = { top + h1, 0, h2, half },
		[TUI_P_EVENTS] = { top + h1, half, h2, cols - half },
	};

	memcpy(rect, r, sizeof(r));
}

static void dashboard_draw(struct tui_ui *ui)
{
	int rect[TUI_P_COUNT][4], cols = ui->dr.cols;
	const struct tui_snapshot *s = &ui->snap;

	if (s->deployed == 0)
		tui_text(&ui->dr, 1, 0, cols, TUI_R_WARN,
			 "the stack is not deployed: press w for the setup wizard");
	else if (s->job_status[0] && s->job_running && s->job_total > 0) { /* with its progress */
		char prog[48];
		int pw = snprintf(prog, sizeof(prog), "  %ld/%ld", s->job_done, s->job_total);
		int tw = tui_text_width(s->job_status);

		if (tw + pw > cols) /* the progress stays in view; the text is cut */
			tw = cols > pw ? cols - pw : 0;
		tui_text(&ui->dr, 1, 0, tw, TUI_R_WARN, s->job_status);
		tui_text(&ui->dr, 1, tw, pw, TUI_R_WARN, prog);
	}
	else if (s->job_status[0])
		tui_text(&ui->dr, 1, 0, cols, s->job_failed ? TUI_R_ERR : TUI_R_DIM, s->job_status);
	draw_flow(ui);
	draw_spark(ui);
	panel_rects(ui, rect);
	for (int p = 0; p < TUI_P_COUNT; p++)
		draw_panel(ui, (enum tui_panel)p, rect[p][0], rect[p][1], rect[p][2], rect[p][3]);
}

/* Scroll panel p by delta lines, within its list. */
static void scroll_panel(struct tui_ui *ui, enum tui_panel p, int delta)
{
	int n = panel_list(ui, p)->n;

	ui->scroll[p] += delta;
	if (ui->scroll[p] > n - 1)
		ui->scroll[p] = n - 1;
	if (ui->scroll[p] < 0)
		ui->scroll[p] = 0;
}

/* A click focuses the panel under the pointer; the wheel scrolls it. */
static int dashboard_mouse(struct tui_ui *ui, int y, int x, unsigned long bstate)
{
	int rect[TUI_P_COUNT][4];

	panel_rects(ui, rect);
	for (int p = 0; p < TUI_P_COUNT; p++) {
		if (y < rect[p][0] || y >= rect[p][0] + rect[p][2] || x < rect[p][1] ||
		    x >= rect[p][1] + rect[p][3])
			continue;
		if (bstate & BUTTON1_PRESSED)
			ui->panel = (enum tui_panel)p;
		else if (bstate & BUTTON4_PRESSED)
			scroll_panel(ui, (enum tui_panel)p, -3);
		else if (bstate & BUTTON5_PRESSED)
			scroll_panel(ui, (enum tui_panel)p, 3);
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	return 0;
}

static int dashboard_key(struct tui_ui *ui, int key, enum tui_action act)
{
	int page = (ui->dr.rows - 9) / 2 - 2;

	if (ui->filtering) { /* typing the log filter */
		if (key == '\r' || key == '\n' || key == KEY_ENTER || key == 27)
			ui->filtering = 0;
		else
			tui_field_key(&ui->filter, key);
		ui->scroll[TUI_P_LOGS] = 0;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	switch (act) {
	case TUI_ACT_NEXT_PANEL:
		ui->panel = (enum tui_panel)((ui->panel + 1) % TUI_P_COUNT);
		return TUI_F_HANDLED | TUI_F_REDRAW;
	case TUI_ACT_PREV_PANEL:
		ui->panel = (enum tui_panel)((ui->panel + TUI_P_COUNT - 1) % TUI_P_COUNT);
		return TUI_F_HANDLED | TUI_F_REDRAW;
	case TUI_ACT_UP:
	case TUI_ACT_PAGE_UP:
		ui->scroll[ui->panel] -= act == TUI_ACT_UP ? 1 : page;
		if (ui->scroll[ui->panel] < 0)
			ui->scroll[ui->panel] = 0;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	case TUI_ACT_DOWN:
	case TUI_ACT_PAGE_DOWN:
		scroll_panel(ui, ui->panel, act == TUI_ACT_DOWN ? 1 : page);
		return TUI_F_HANDLED | TUI_F_REDRAW;
	case TUI_ACT_FILTER:
		ui->panel = TUI_P_LOGS;
		ui->filtering = 1;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	default:
		return 0;
	}
}

const struct tui_screen tui_screen_dashboard = {
	.name = "dashboard",
	.draw = dashboard_draw,
	.key = dashboard_key,
	.mouse = dashboard_mouse,
};
