/* screen_dialogs.c: overlays: help, order form, burst, DLQ, purge, redeploy, cleanup, palette. */
#include "console.h"

#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/stack/names.h"

/* A dialog row: title, size, what its fields are, and its draw and key functions. */
struct dialog {
	const char *title;
	int h, w;
	void (*open)(struct tui_ui *ui);
	void (*draw)(struct tui_ui *ui, int y, int x, int h, int w);
	int (*key)(struct tui_ui *ui, int key);
};

/* ---- fields ---- */

void tui_field_set(struct tui_field *f, const char *label, size_t max, const char *text)
{
	f->label = label;
	f->max = max < sizeof(f->text) - 1 ? max : sizeof(f->text) - 1;
	snprintf(f->text, f->max + 1, "%s", text ? text : "");
	f->len = strlen(f->text);
}

int tui_field_key(struct tui_field *f, int key)
{
	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		/* drop one UTF-8 character */
		while (f->len > 0 && ((unsigned char)f->text[f->len - 1] & 0xC0) == 0x80)
			f->len--;
		if (f->len > 0)
			f->len--;
		f->text[f->len] = '\0';
		return 1;
	}
	if (key == 21) { /* ^U */
		f->len = 0;
		f->text[0] = '\0';
		return 1;
	}
	if (key >= 32 && key < 256 && key != 127 && f->len < f->max) {
		f->text[f->len++] = (char)key;
		f->text[f->len] = '\0';
		return 1;
	}
	return 0;
}

static int is_enter(int key)
{
	return key == '\r' || key == '\n' || key == KEY_ENTER;
}

/* Parse a whole decimal number in [lo, hi]. Returns 0 or -1. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int tui_order_validate(const char *item, const char *quantity, long *qty_out, char *msg, size_t n)
{
	size_t len = strlen(item);

	if (len < 1 || len > 256) {
		snprintf(msg, n, "item: 1-256 characters");
		return -1;
	}
	if (!*quantity) {
		*qty_out = 1;
		return 0;
	}
	if (parse_long(quantity, 1, 10000, qty_out) != 0) {
		snprintf(msg, n, "quantity: a whole number from 1 to 10000");
		return -1;
	}
	return 0;
}

/* Draw the open dialog's fields from row y; the focused one highlighted. */
static void draw_fields(struct tui_ui *ui, int nf, int y, int x, int w)
{
	for (int i = 0; i < nf; i++) {
		int sel = ui->dfocus == i;
		char shown[300];

		snprintf(shown, sizeof(shown), "%s%s", ui->f[i].text, sel ? "_" : "");
		tui_textf(&ui->dr, y + i, x, 14, TUI_R_NORMAL, "%s:", ui->f[i].label);
		tui_textf(&ui->dr, y + i, x + 14, w - 14, sel ? TUI_R_SEL : TUI_R_NORMAL, "%-*s",
			  w - 15 > 0 ? w - 15 : 1, shown);
	}
}

/* Common field navigation; returns flags or 0 when key was not used. Enter on the last
 * field returns -1 (submit). */
static int fields_key(struct tui_ui *ui, int nf, int key)
{
	if (key == '\t' || key == KEY_DOWN) {
		ui->dfocus = (ui->dfocus + 1) % nf;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	if (key == KEY_BTAB || key == KEY_UP) {
		ui->dfocus = (ui->dfocus + nf - 1) % nf;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	if (is_enter(key)) {
		if (ui->dfocus < nf - 1) {
			ui->dfocus++;
			return TUI_F_HANDLED | TUI_F_REDRAW;
		}
		return -1;
	}
	if (tui_field_key(&ui->f[ui->dfocus], key)) {
		ui->dmsg[0] = '\0';
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	return 0;
}

/* The job's state line, when this dialog started it. */
static void draw_job(struct tui_ui *ui, enum tui_job_kind kind, int y, int x, int w)
{
	const struct tui_snapshot *s = &ui->snap;

	if (!ui->submitted || s->job != kind)
		return;
	tui_text(&ui->dr, y, x, w, s->job_failed ? TUI_R_ERR : s->job_running ? TUI_R_WARN : TUI_R_OK,
		 s->job_status);
	if (s->job_total > 0) {
		int bw = w - 12, filled = (int)((long long)bw * s->job_done / s->job_total);
		char bar[256];

		if (bw > (int)sizeof(bar) - 1)
			bw = (int)sizeof(bar) - 1;
		for (int i = 0; i < bw; i++)
			bar[i] = i < filled ? '#' : '.';
		bar[bw > 0 ? bw : 0] = '\0';
		tui_textf(&ui->dr, y + 1, x, w, TUI_R_NORMAL, "[%s] %ld/%ld", bar, s->job_done,
			  s->job_total);
	}
	if (s->job_result[0])
		tui_text(&ui->dr, y + 2, x, w, TUI_R_NORMAL, s->job_result);
}

static void start(struct tui_ui *ui, enum tui_job_kind kind, const struct tui_job_args *a)
{
	if (tui_data_start_job(ui->data, kind, a) != 0)
		snprintf(ui->dmsg, sizeof(ui->dmsg), "another job is running; wait for it");
	else
		ui->submitted = 1;
}

/* ---- help ---- */

static void help_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	int row = y + 1;

	for (size_t i = (size_t)ui->help_scroll; i < tui_nkeys && row < y + h - 1; i++, row++) {
		const struct tui_key *k = &tui_keys[i];
		const char *where = k->scope == TUI_IN_ALL ? "everywhere"
				  : k->scope == TUI_IN_SCREENS ? "screens"
				  : k->scope == TUI_IN_WIZARD ? "wizard"
				  : k->scope == TUI_IN_DASHBOARD ? "dashboard" : "overlays";

		tui_textf(&ui->dr, row, x + 2, 7, TUI_R_KEY, "%s", k->label);
		tui_textf(&ui->dr, row, x + 9, 11, TUI_R_DIM, "%s", where);
		tui_textf(&ui->dr, row, x + 20, w - 22, TUI_R_NORMAL, "%s%s%s", k->help,
			  k->command ? "  :" : "", k->command ? k->command : "");
	}
}

static int help_key(struct tui_ui *ui, int key)
{
	if (key == KEY_DOWN || key == 'j') {
		if ((size_t)ui->help_scroll + 1 < tui_nkeys)
			ui->help_scroll++;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	if (key == KEY_UP || key == 'k') {
		if (ui->help_scroll > 0)
			ui->help_scroll--;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	if (key == 'q' || key == '?') {
		ui->overlay = TUI_OV_NONE;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	return TUI_F_HANDLED;
}

/* ---- order ---- */

static void order_open(struct tui_ui *ui)
{
	tui_field_set(&ui->f[0], "item", 256, "");
	tui_field_set(&ui->f[1], "quantity", 12, "1");
	tui_field_set(&ui->f[2], "customer", 64, "");
}

static void order_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	draw_fields(ui, 3, y + 2, x + 2, w - 4);
	tui_text(&ui->dr, y + 6, x + 2, w - 4, TUI_R_DIM,
		 "item 1-256 chars, quantity 1-10000; Enter on the last field sends");
	if (ui->dmsg[0])
		tui_text(&ui->dr, y + 8, x + 2, w - 4, TUI_R_ERR, ui->dmsg);
	draw_job(ui, TUI_JOB_ORDER, y + 9, x + 2, w - 4);
	(void)h;
}

static int order_key(struct tui_ui *ui, int key)
{
	int f = fields_key(ui, 3, key);
	struct tui_job_args a;

	if (f >= 0)
		return f | TUI_F_HANDLED;
	memset(&a, 0, sizeof(a));
	if (tui_order_validate(ui->f[0].text, ui->f[1].text, &a.quantity, ui->dmsg,
			       sizeof(ui->dmsg)) != 0)
		return TUI_F_HANDLED | TUI_F_REDRAW;
	snprintf(a.item, sizeof(a.item), "%.256s", ui->f[0].text);
	snprintf(a.customer, sizeof(a.customer), "%.127s", ui->f[2].text);
	ui->dmsg[0] = '\0';
	start(ui, TUI_JOB_ORDER, &a);
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

/* ---- burst ---- */

static void burst_open(struct tui_ui *ui)
{
	tui_field_set(&ui->f[0], "count", 8, "100");
	tui_field_set(&ui->f[1], "rate (/s)", 8, "20");
	tui_field_set(&ui->f[2], "item", 256, "burst");
}

static void burst_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	draw_fields(ui, 3, y + 2, x + 2, w - 4);
	tui_text(&ui->dr, y + 6, x + 2, w - 4, TUI_R_DIM,
		 "count 1-100000, rate 1-5000 orders/s; Enter on the last field starts");
	if (ui->dmsg[0])
		tui_text(&ui->dr, y + 8, x + 2, w - 4, TUI_R_ERR, ui->dmsg);
	draw_job(ui, TUI_JOB_BURST, y + 9, x + 2, w - 4);
	(void)h;
}

static int burst_key(struct tui_ui *ui, int key)
{
	int f = fields_key(ui, 3, key);
	struct tui_job_args a;
	long rate;

	if (f >= 0)
		return f | TUI_F_HANDLED;
	memset(&a, 0, sizeof(a));
	if (parse_long(ui->f[0].text, 1, 100000, &a.count) != 0) {
		snprintf(ui->dmsg, sizeof(ui->dmsg), "count: a whole number from 1 to 100000");
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	if (parse_long(ui->f[1].text, 1, 5000, &rate) != 0) {
		snprintf(ui->dmsg, sizeof(ui->dmsg), "rate: a whole number from 1 to 5000");
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	if (strlen(ui->f[2].text) < 1) {
		snprintf(ui->dmsg, sizeof(ui->dmsg), "item: 1-256 characters");
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	a.rate = (double)rate;
	a.quantity = 1;
	snprintf(a.item, sizeof(a.item), "%.256s", ui->f[2].text);
	ui->dmsg[0] = '\0';
	start(ui, TUI_JOB_BURST, &a);
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

/* ---- DLQ ---- */

static void dlq_open(struct tui_ui *ui)
{
	start(ui, TUI_JOB_DLQ_INSPECT, NULL);
}

static void dlq_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	const struct tui_snapshot *s = &ui->snap;
	int row = y + 2;

	tui_text(&ui->dr, y + 1, x + 2, w - 4, TUI_R_DIM, "r: redrive to the order queue  "
		 "i: inspect again  Esc: close");
	for (int i = 0; i < s->dlq.n && row < y + h - 5; i++)
		tui_text(&ui->dr, row++, x + 2, w - 4, TUI_R_NORMAL, s->dlq.line[i]);
	if (s->dlq.n == 0)
		tui_text(&ui->dr, row++, x + 2, w - 4, TUI_R_DIM, "(no messages seen)");
	if (ui->dmsg[0])
		tui_text(&ui->dr, y + h - 5, x + 2, w - 4, TUI_R_ERR, ui->dmsg);
	if (ui->submitted && (s->job == TUI_JOB_DLQ_INSPECT || s->job == TUI_JOB_REDRIVE))
		tui_text(&ui->dr, y + h - 3, x + 2, w - 4, s->job_failed ? TUI_R_ERR : TUI_R_OK,
			 s->job_status);
}

static int dlq_key(struct tui_ui *ui, int key)
{
	if (key == 'r')
		start(ui, TUI_JOB_REDRIVE, NULL);
	else if (key == 'i')
		start(ui, TUI_JOB_DLQ_INSPECT, NULL);
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

/* ---- purge and redeploy: y/n confirmations ---- */

static void purge_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	char q[128];

	if (stack_name(ui->snap.stack, STACK_QUEUE, q, sizeof(q)) != 0)
		snprintf(q, sizeof(q), "%s", STACK_QUEUE);
	tui_textf(&ui->dr, y + 2, x + 2, w - 4, TUI_R_NORMAL,
		  "Delete every message in %s? (y/n)", q);
	if (ui->dmsg[0])
		tui_text(&ui->dr, y + 4, x + 2, w - 4, TUI_R_ERR, ui->dmsg);
	draw_job(ui, TUI_JOB_PURGE, y + 4, x + 2, w - 4);
	(void)h;
}

static int purge_key(struct tui_ui *ui, int key)
{
	if (key == 'y' && !ui->submitted)
		start(ui, TUI_JOB_PURGE, NULL);
	else if (key == 'n')
		ui->overlay = TUI_OV_NONE;
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

static void redeploy_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	tui_textf(&ui->dr, y + 2, x + 2, w - 4, TUI_R_NORMAL,
		  "Redeploy stack %s (create what is missing, update what drifted)? (y/n)",
		  ui->snap.stack);
	if (ui->dmsg[0])
		tui_text(&ui->dr, y + 4, x + 2, w - 4, TUI_R_ERR, ui->dmsg);
	draw_job(ui, TUI_JOB_DEPLOY, y + 4, x + 2, w - 4);
	(void)h;
}

static int redeploy_key(struct tui_ui *ui, int key)
{
	struct tui_job_args a;

	memset(&a, 0, sizeof(a));
	snprintf(a.email, sizeof(a.email), "%.255s", ui->email.text);
	if (key == 'y' && !ui->submitted)
		start(ui, TUI_JOB_DEPLOY, &a);
	else if (key == 'n')
		ui->overlay = TUI_OV_NONE;
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

/* ---- cleanup ---- */

/* What cleanup deletes, as base names (prefixed for the stack when shown). */
static const char *const cleanup_list[] = {
	STACK_API, STACK_FN_NOTIFIER, STACK_FN_WRITER, STACK_TOPIC, STACK_TABLE, STACK_QUEUE,
	STACK_DLQ, STACK_STREAM_FAILURES, STACK_DELIVERIES, STACK_ROLE_WRITER, STACK_ROLE_NOTIFIER,
	STACK_ROLE_API,
};

static void cleanup_open(struct tui_ui *ui)
{
	tui_field_set(&ui->f[0], "stack name", 32, "");
}

static void cleanup_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	const struct tui_snapshot *s = &ui->snap;
	size_t n = sizeof(cleanup_list) / sizeof(cleanup_list[0]);
	int row = y + 2, col = 0;

	tui_textf(&ui->dr, y + 1, x + 2, w - 4, TUI_R_NORMAL,
		  "These resources of stack %s will be deleted (with the policies, mappings, "
		  "log groups):", s->stack);
	for (size_t i = 0; i < n; i++) {
		char name[128];

		if (stack_name(s->stack, cleanup_list[i], name, sizeof(name)) != 0)
			snprintf(name, sizeof(name), "%s", cleanup_list[i]);
		tui_text(&ui->dr, row, x + 4 + col * ((w - 6) / 2), (w - 6) / 2, TUI_R_WARN, name);
		col ^= 1;
		if (!col)
			row++;
	}
	row += 2;
	tui_textf(&ui->dr, row++, x + 2, w - 4, TUI_R_NORMAL,
		  "Type the stack name (%s) and Enter to confirm:", s->stack);
	draw_fields(ui, 1, row++, x + 2, w - 4);
	if (ui->dmsg[0])
		tui_text(&ui->dr, row, x + 2, w - 4, TUI_R_ERR, ui->dmsg);
	draw_job(ui, TUI_JOB_DESTROY, row + 1, x + 2, w - 4);
	for (int i = 0; ui->submitted && s->job == TUI_JOB_DESTROY && i < s->nres &&
	     row + 5 + i < y + h - 1; i++)
		tui_textf(&ui->dr, row + 5 + i, x + 2, w - 4,
			  s->res[i].state == TUI_RES_FAILED ? TUI_R_ERR : TUI_R_NORMAL,
			  "%-12s %-32s %s", s->res[i].kind, s->res[i].name,
			  s->res[i].state == TUI_RES_ABSENT ? "gone" :
			  s->res[i].state == TUI_RES_FAILED ? s->res[i].message : "...");
}

static int cleanup_key(struct tui_ui *ui, int key)
{
	int f = fields_key(ui, 1, key);

	if (f >= 0)
		return f | TUI_F_HANDLED;
	if (strcmp(ui->f[0].text, ui->snap.stack) != 0) {
		snprintf(ui->dmsg, sizeof(ui->dmsg), "that is not the stack's name; nothing deleted");
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	ui->dmsg[0] = '\0';
	if (!ui->submitted)
		start(ui, TUI_JOB_DESTROY, NULL);
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

/* ---- sandbox mailbox ---- */

static void mail_open(struct tui_ui *ui)
{
	start(ui, TUI_JOB_MAIL, NULL);
}

static void mail_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	const struct tui_snapshot *s = &ui->snap;
	int row = y + 2;

	tui_textf(&ui->dr, y + 1, x + 2, w - 4, TUI_R_DIM, "subscription: %s   r: reload%s  Esc: close",
		  s->subscription, s->confirm_url[0] ? "  c: confirm the subscription" : "");
	for (int i = 0; i < s->mail.n && row < y + h - 3; i++)
		tui_text(&ui->dr, row++, x + 2, w - 4, TUI_R_NORMAL, s->mail.line[i]);
	if (s->mail.n == 0)
		tui_text(&ui->dr, row, x + 2, w - 4, TUI_R_DIM, "(no mail)");
	if (ui->dmsg[0])
		tui_text(&ui->dr, y + h - 3, x + 2, w - 4, TUI_R_ERR, ui->dmsg);
	if (ui->submitted && (s->job == TUI_JOB_MAIL || s->job == TUI_JOB_CONFIRM))
		tui_text(&ui->dr, y + h - 2, x + 2, w - 4, s->job_failed ? TUI_R_ERR : TUI_R_OK,
			 s->job_status);
}

static int mail_key(struct tui_ui *ui, int key)
{
	if (key == 'r')
		start(ui, TUI_JOB_MAIL, NULL);
	else if (key == 'c' && ui->snap.confirm_url[0])
		start(ui, TUI_JOB_CONFIRM, NULL);
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

/* ---- palette ---- */

static void palette_open(struct tui_ui *ui)
{
	tui_field_set(&ui->f[0], "command", 40, "");
}

static void palette_draw(struct tui_ui *ui, int y, int x, int h, int w)
{
	int row = y + 3;

	tui_textf(&ui->dr, y + 1, x + 2, w - 4, TUI_R_KEY, ":%s_", ui->f[0].text);
	for (size_t i = 0; i < tui_nkeys && row < y + h - 2; i++) {
		const struct tui_key *k = &tui_keys[i];

		if (!k->command || strncmp(k->command, ui->f[0].text, ui->f[0].len) != 0)
			continue;
		tui_textf(&ui->dr, row++, x + 2, w - 4, TUI_R_NORMAL, "%-10s %s", k->command, k->help);
	}
	if (ui->dmsg[0])
		tui_text(&ui->dr, y + h - 2, x + 2, w - 4, TUI_R_ERR, ui->dmsg);
}

static int palette_key(struct tui_ui *ui, int key)
{
	const struct tui_key *k;

	if (!is_enter(key)) {
		if (tui_field_key(&ui->f[0], key))
			ui->dmsg[0] = '\0';
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	k = tui_key_command(ui->f[0].text);
	if (!k) {
		snprintf(ui->dmsg, sizeof(ui->dmsg), "unknown or ambiguous command '%.40s'", ui->f[0].text);
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	ui->overlay = TUI_OV_NONE;
	if (k->scope & (ui->screen == TUI_SCR_WIZARD ? TUI_IN_WIZARD : TUI_IN_DASHBOARD)) {
		int f = ui->screen == TUI_SCR_WIZARD ? tui_screen_wizard.key(ui, 0, k->action)
						     : tui_screen_dashboard.key(ui, 0, k->action);

		if (f & (TUI_F_HANDLED | TUI_F_QUIT))
			return f | TUI_F_REDRAW;
	}
	return tui_console_action(ui, k->action) | TUI_F_HANDLED | TUI_F_REDRAW;
}

/* ---- the rows ---- */

static const struct dialog dialogs[TUI_OV_COUNT] = {
	[TUI_OV_HELP] = { "Keys (Esc closes, j/k scroll)", 40, 78, NULL, help_draw, help_key },
	[TUI_OV_ORDER] = { "Submit an order", 14, 70, order_open, order_draw, order_key },
	[TUI_OV_BURST] = { "Burst of orders", 14, 74, burst_open, burst_draw, burst_key },
	[TUI_OV_DLQ] = { "Dead-letter queue", 18, 78, dlq_open, dlq_draw, dlq_key },
	[TUI_OV_PURGE] = { "Purge the queue", 9, 70, NULL, purge_draw, purge_key },
	[TUI_OV_REDEPLOY] = { "Redeploy", 10, 78, NULL, redeploy_draw, redeploy_key },
	[TUI_OV_CLEANUP] = { "Cleanup: delete the stack", 22, 78, cleanup_open, cleanup_draw,
			     cleanup_key },
	[TUI_OV_PALETTE] = { "Command", 16, 60, palette_open, palette_draw, palette_key },
	[TUI_OV_MAIL] = { "Sandbox mailbox", 20, 96, mail_open, mail_draw, mail_key },
};

void tui_dialog_open(struct tui_ui *ui, enum tui_overlay ov)
{
	ui->overlay = ov;
	ui->dfocus = 0;
	ui->submitted = 0;
	ui->dmsg[0] = '\0';
	ui->help_scroll = 0;
	if (dialogs[ov].open)
		dialogs[ov].open(ui);
}

void tui_dialog_draw(struct tui_ui *ui)
{
	const struct dialog *dl;
	int y, x, h, w;

	if (ui->overlay == TUI_OV_NONE)
		return;
	dl = &dialogs[ui->overlay];
	tui_center_box(&ui->dr, dl->h, dl->w, dl->title, &y, &x, &h, &w);
	dl->draw(ui, y, x, h, w);
}

int tui_dialog_key(struct tui_ui *ui, int key)
{
	if (tui_key_action(key, TUI_IN_OVERLAY) == TUI_ACT_CLOSE) {
		ui->overlay = TUI_OV_NONE;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	if (key == '?' && ui->overlay != TUI_OV_HELP && ui->overlay != TUI_OV_ORDER &&
	    ui->overlay != TUI_OV_BURST && ui->overlay != TUI_OV_CLEANUP &&
	    ui->overlay != TUI_OV_PALETTE) {
		tui_dialog_open(ui, TUI_OV_HELP);
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	return dialogs[ui->overlay].key(ui, key);
}
