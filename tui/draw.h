/* draw.h: drawing helpers of the console: glyph sets, colour roles, boxes, clipped text. */
#ifndef CLEANOPS_TUI_DRAW_H
#define CLEANOPS_TUI_DRAW_H

#include <stddef.h>

/* Line-drawing and symbol glyphs: UTF-8 when the locale is, else ASCII. */
struct tui_glyphs {
	const char *h, *v, *tl, *tr, *bl, *br; /* box lines and corners */
	const char *arrow;                     /* flow arrow between hops */
	const char *lambda;                    /* the λ in "λ1" */
	const char *ok, *fail, *busy, *todo;   /* step states */
	const char *spark[8];                  /* sparkline levels, lowest first */
};
extern const struct tui_glyphs tui_glyphs_utf8;
extern const struct tui_glyphs tui_glyphs_ascii;

/* Colour roles (pair numbers when colour is on). */
enum tui_role { TUI_R_NORMAL, TUI_R_TITLE, TUI_R_OK, TUI_R_WARN, TUI_R_ERR, TUI_R_DIM,
		TUI_R_SEL, TUI_R_KEY, TUI_R_COUNT };

/* Drawing context: terminal size, glyphs, colour on/off. */
struct tui_draw {
	int rows, cols;
	int color;            /* 0: monochrome (attributes only) */
	const struct tui_glyphs *g;
};

/* Set up colour pairs (when the terminal has colours and NO_COLOR is unset); fills d->color. */
void tui_draw_init_colors(struct tui_draw *d);
/* Turn role's attributes on / off. */
void tui_role_on(const struct tui_draw *d, enum tui_role r);
void tui_role_off(const struct tui_draw *d, enum tui_role r);
/* Print UTF-8 text at (y, x), clipped to width columns (multibyte-aware). */
void tui_text(const struct tui_draw *d, int y, int x, int width, enum tui_role r, const char *s);
/* Print printf-formatted text at (y, x), clipped to width columns. */
void tui_textf(const struct tui_draw *d, int y, int x, int width, enum tui_role r,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Draw a box with a title; clears its inside. */
void tui_box(const struct tui_draw *d, int y, int x, int h, int w, const char *title,
	     enum tui_role r);
/* A centred box of h x w (clamped to the screen); its origin goes to *y, *x. */
void tui_center_box(const struct tui_draw *d, int h, int w, const char *title, int *y, int *x,
		    int *hh, int *ww);
/* Render a sparkline of vals (n samples) into out as width glyphs, scaled to the maximum
 * of the samples shown. Pure; returns out. */
char *tui_sparkline(const struct tui_glyphs *g, const int *vals, int n, int width, char *out,
		    size_t outsz);
/* Columns that s occupies on the terminal (UTF-8 aware). */
int tui_text_width(const char *s);
/* Format a count compactly: 999, 12.3k, 4.5M. */
void tui_fmt_count(long long v, char *out, size_t n);

#endif
