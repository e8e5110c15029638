/* draw.c: drawing helpers over ncurses: glyphs, colour roles with monochrome fallback, boxes. */
#include "draw.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

const struct tui_glyphs tui_glyphs_utf8 = {
	.h = "─", .v = "│", .tl = "┌", .tr = "┐", .bl = "└", .br = "┘",
	.arrow = "→", .lambda = "λ",
	.ok = "✓", .fail = "✗", .busy = "…", .todo = "·",
	.spark = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" },
};

const struct tui_glyphs tui_glyphs_ascii = {
	.h = "-", .v = "|", .tl = "+", .tr = "+", .bl = "+", .br = "+",
	.arrow = ">", .lambda = "L",
	.ok = "+", .fail = "x", .busy = "~", .todo = ".",
	.spark = { "_", ".", "-", "-", "=", "=", "#", "#" },
};

/* Each role: its colour pair (foreground, -1 background) and its monochrome attributes. */
static const struct {
	short fg;
	int color_attr;
	int mono_attr;
} roles[TUI_R_COUNT] = {
	[TUI_R_NORMAL] = { -1, 0, 0 },
	[TUI_R_TITLE] = { COLOR_CYAN, A_BOLD, A_BOLD },
	[TUI_R_OK] = { COLOR_GREEN, 0, 0 },
	[TUI_R_WARN] = { COLOR_YELLOW, A_BOLD, A_BOLD },
	[TUI_R_ERR] = { COLOR_RED, A_BOLD, A_BOLD | A_UNDERLINE },
	[TUI_R_DIM] = { COLOR_BLUE, 0, A_DIM },
	[TUI_R_SEL] = { -1, A_REVERSE, A_REVERSE },
	[TUI_R_KEY] = { COLOR_YELLOW, A_BOLD, A_BOLD },
};

void tui_draw_init_colors(struct tui_draw *d)
{
	const char *nc = getenv("NO_COLOR");

	d->color = 0;
	if ((nc && *nc) || !has_colors() || start_color() != OK)
		return;
	use_default_colors();
	for (int r = 1; r < TUI_R_COUNT; r++)
		init_pair((short)r, roles[r].fg, -1);
	d->color = 1;
}

static attr_t role_attr(const struct tui_draw *d, enum tui_role r)
{
	if (!d->color)
		return (attr_t)roles[r].mono_attr;
	if (r == TUI_R_NORMAL)
		return 0;
	return (attr_t)(COLOR_PAIR(r) | roles[r].color_attr);
}

void tui_role_on(const struct tui_draw *d, enum tui_role r)
{
	attron(role_attr(d, r));
}

void tui_role_off(const struct tui_draw *d, enum tui_role r)
{
	attroff(role_attr(d, r));
}

/* Bytes of s that fit in width columns; *cols gets the columns used. */
static size_t fit_bytes(const char *s, int width, int *cols)
{
	mbstate_t st;
	size_t i = 0, len = strlen(s);
	int used = 0;

	memset(&st, 0, sizeof(st));
	while (i < len) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, len - i, &st);
		int w;

		if (k == (size_t)-1 || k == (size_t)-2) { /* invalid: count the byte as one column */
			memset(&st, 0, sizeof(st));
			k = 1;
			w = 1;
		} else {
			if (k == 0)
				break;
			w = wcwidth(wc);
			if (w < 0)
				w = 1;
		}
		if (used + w > width)
			break;
		used += w;
		i += k;
	}
	*cols = used;
	return i;
}

int tui_text_width(const char *s)
{
	int cols;

	fit_bytes(s, 1 << 20, &cols);
	return cols;
}

void tui_text(const struct tui_draw *d, int y, int x, int width, enum tui_role r, const char *s)
{
	int cols;
	size_t nb;

	if (y < 0 || y >= d->rows || x >= d->cols || width <= 0)
		return;
	if (x + width > d->cols)
		width = d->cols - x;
	nb = fit_bytes(s, width, &cols);
	tui_role_on(d, r);
	mvaddnstr(y, x, s, (int)nb);
	tui_role_off(d, r);
}

void tui_textf(const struct tui_draw *d, int y, int x, int width, enum tui_role r,
	       const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tui_text(d, y, x, width, r, buf);
}

void tui_box(const struct tui_draw *d, int y, int x, int h, int w, const char *title,
	     enum tui_role r)
{
	if (h < 2 || w < 2)
		return;
	tui_role_on(d, r);
	for (int row = y; row < y + h; row++) {
		if (row < 0 || row >= d->rows)
			continue;
		for (int col = x; col < x + w && col < d->cols; col++) {
			const char *gl = " ";

			if (row == y)
				gl = col == x ? d->g->tl : col == x + w - 1 ? d->g->tr : d->g->h;
			else if (row == y + h - 1)
				gl = col == x ? d->g->bl : col == x + w - 1 ? d->g->br : d->g->h;
			else if (col == x || col == x + w - 1)
				gl = d->g->v;
			mvaddstr(row, col, gl);
		}
	}
	tui_role_off(d, r);
	if (title && *title) {
		char t[256];

		snprintf(t, sizeof(t), " %s ", title);
		tui_text(d, y, x + 2, w - 4, TUI_R_TITLE, t);
	}
}

void tui_center_box(const struct tui_draw *d, int h, int w, const char *title, int *y, int *x,
		    int *hh, int *ww)
{
	if (w > d->cols - 2)
		w = d->cols - 2;
	if (h > d->rows - 2)
		h = d->rows - 2;
	*y = (d->rows - h) / 2;
	*x = (d->cols - w) / 2;
	*hh = h;
	*ww = w;
	tui_box(d, *y, *x, h, w, title, TUI_R_NORMAL);
}

char *tui_sparkline(const struct tui_glyphs *g, const int *vals, int n, int width, char *out,
		    size_t outsz)
{
	int start = n > width ? n - width : 0;
	int max = 0;
	size_t used = 0;

	out[0] = '\0';
	for (int i = start; i < n; i++)
		if (vals[i] > max)
			max = vals[i];
	for (int i = start; i < n; i++) {
		int level = max > 0 ? (int)((long long)vals[i] * 7 / max) : 0;
		size_t gl = strlen(g->spark[level]);

		if (used + gl + 1 > outsz)
			break;
		memcpy(out + used, g->spark[level], gl);
		used += gl;
	}
	out[used] = '\0';
	return out;
}

void tui_fmt_count(long long v, char *out, size_t n)
{
	if (v < 10000)
		snprintf(out, n, "%lld", v);
	else if (v < 1000000)
		snprintf(out, n, "%.1fk", (double)v / 1e3);
	else
		snprintf(out, n, "%.1fM", (double)v / 1e6);
}
