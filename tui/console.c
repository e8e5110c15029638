/* console.c: the console's main loop: terminal setup, screens, overlays, resize, redraw on change. */
#include "console.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/stack/names.h"
#include "cli.h"

enum { MIN_ROWS = 24, MIN_COLS = 80 };

/* What the console takes from the mouse: a click, the wheel. */
#define CONSOLE_MOUSE (BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED)

/* Set by SIGINT, SIGTERM, SIGHUP: leave the loop and restore the terminal. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static const struct tui_screen *const screens[TUI_SCR_COUNT] = {
	[TUI_SCR_WIZARD] = &tui_screen_wizard,
	[TUI_SCR_DASHBOARD] = &tui_screen_dashboard,
};

/* The console as a command row, so its options parse like every other command's. */
static const struct cli_cmd console_cmd = {
	.name = "console",
	.usage = "[--target sandbox|aws] [--endpoint URL] [--profile P] [--region R] [--stack NAME]",
	.summary = "the interactive console",
	.options = "",
	.min_pos = 0,
	.max_pos = 0,
	.exec = NULL,
};

static int too_small(const struct tui_ui *ui)
{
	return ui->dr.rows < MIN_ROWS || ui->dr.cols < MIN_COLS;
}

/* Header: target, account, region, stack; the screen's name on the right. */
static void draw_header(struct tui_ui *ui)
{
	const struct tui_snapshot *s = &ui->snap;
	char left[512], right[64];
	int lw, rw;

	tui_role_on(&ui->dr, TUI_R_SEL);
	mvhline(0, 0, ' ', ui->dr.cols);
	tui_role_off(&ui->dr, TUI_R_SEL);
	snprintf(left, sizeof(left), "stack: %s  account: %s  region: %s  target: %s", s->stack,
		 s->account[0] ? s->account : "?", s->region[0] ? s->region : "?", s->target);
	snprintf(right, sizeof(right), "[%s]", screens[ui->screen]->name);
	lw = tui_text_width(left);
	rw = tui_text_width(right);
	tui_text(&ui->dr, 0, 1, ui->dr.cols - 2, TUI_R_SEL, left);
	if (lw + rw + 3 <= ui->dr.cols) /* the screen's name when it fits */
		tui_text(&ui->dr, 0, ui->dr.cols - rw - 1, rw, TUI_R_SEL, right);
}

/* Footer: connection state, or the keys of the current screen. */
static void draw_footer(struct tui_ui *ui)
{
	int y = ui->dr.rows - 1;

	if (ui->snap.conn[0]) {
		tui_textf(&ui->dr, y, 0, ui->dr.cols, TUI_R_WARN, "%s", ui->snap.conn);
		return;
	}
	tui_text(&ui->dr, y, 0, ui->dr.cols, TUI_R_DIM,
		 ui->screen == TUI_SCR_WIZARD
		 ? "?:help  n/p:step  g:deploy  d:dashboard  :cmd  q:quit"
		 : "?:help Tab:panel j/k:scroll /:filter o:order b:burst D:dlq C:cleanup :cmd q:quit");
	if (ui->mouse_off && ui->dr.cols >= 100)
		tui_text(&ui->dr, y, ui->dr.cols - 14, 14, TUI_R_DIM, "mouse off (M)");
}

static void draw_all(struct tui_ui *ui)
{
	erase();
	if (too_small(ui)) {
		static const char msg[] = "terminal too small (need 80x24)";
		int w = (int)sizeof(msg) - 1;
		int x = ui->dr.cols > w ? (ui->dr.cols - w) / 2 : 0;

		tui_text(&ui->dr, ui->dr.rows / 2, x, ui->dr.cols, TUI_R_WARN, msg);
		refresh();
		return;
	}
	draw_header(ui);
	screens[ui->screen]->draw(ui);
	draw_footer(ui);
	tui_dialog_draw(ui);
	refresh();
}

int tui_console_action(struct tui_ui *ui, enum tui_action act)
{
	static const enum tui_overlay dialog_of[] = {
		[TUI_ACT_HELP] = TUI_OV_HELP, [TUI_ACT_PALETTE] = TUI_OV_PALETTE,
		[TUI_ACT_ORDER] = TUI_OV_ORDER, [TUI_ACT_BURST] = TUI_OV_BURST,
		[TUI_ACT_DLQ] = TUI_OV_DLQ, [TUI_ACT_PURGE] = TUI_OV_PURGE,
		[TUI_ACT_REDEPLOY] = TUI_OV_REDEPLOY, [TUI_ACT_CLEANUP] = TUI_OV_CLEANUP,
		[TUI_ACT_MAIL] = TUI_OV_MAIL,
	};

	switch (act) {
	case TUI_ACT_QUIT:
		return TUI_F_QUIT;
	case TUI_ACT_MOUSE:
		ui->mouse_off = !ui->mouse_off;
		mousemask(ui->mouse_off ? 0 : CONSOLE_MOUSE, NULL);
		return TUI_F_HANDLED | TUI_F_REDRAW;
	case TUI_ACT_WIZARD:
		ui->screen = TUI_SCR_WIZARD;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	case TUI_ACT_DASHBOARD:
		ui->screen = TUI_SCR_DASHBOARD;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	case TUI_ACT_HELP:
	case TUI_ACT_PALETTE:
	case TUI_ACT_ORDER:
	case TUI_ACT_BURST:
	case TUI_ACT_DLQ:
	case TUI_ACT_PURGE:
	case TUI_ACT_REDEPLOY:
	case TUI_ACT_CLEANUP:
	case TUI_ACT_MAIL:
		tui_dialog_open(ui, dialog_of[act]);
		return TUI_F_HANDLED | TUI_F_REDRAW;
	default:
		return 0;
	}
}

static int handle_key(struct tui_ui *ui, int key)
{
	unsigned scope;
	int f;

	if (key == KEY_RESIZE) {
		getmaxyx(stdscr, ui->dr.rows, ui->dr.cols);
		return TUI_F_REDRAW;
	}
	if (too_small(ui))
		return key == 'q' ? TUI_F_QUIT : 0;
	if (key == KEY_MOUSE) {
		MEVENT ev;

		if (getmouse(&ev) != OK)
			return 0;
		if (ui->overlay != TUI_OV_NONE) /* the wheel scrolls an overlay like the arrows */
			return ev.bstate & BUTTON4_PRESSED ? tui_dialog_key(ui, KEY_UP)
			       : ev.bstate & BUTTON5_PRESSED ? tui_dialog_key(ui, KEY_DOWN) : 0;
		return screens[ui->screen]->mouse(ui, ev.y, ev.x, (unsigned long)ev.bstate);
	}
	if (ui->overlay != TUI_OV_NONE)
		return tui_dialog_key(ui, key);
	scope = ui->screen == TUI_SCR_WIZARD ? TUI_IN_WIZARD : TUI_IN_DASHBOARD;
	{
		enum tui_action act = tui_key_action(key, scope);

		f = screens[ui->screen]->key(ui, key, act);
		if (f & (TUI_F_HANDLED | TUI_F_QUIT))
			return f;
		return f | tui_console_action(ui, act);
	}
}

/* Take the adapter's new snapshot; the first time the deployment is known, open the
 * dashboard on a deployed stack. */
static void take_snapshot(struct tui_ui *ui, int *first)
{
	tui_data_drain(ui->data);
	tui_data_snapshot(ui->data, &ui->snap);
	if (ui->email.len == 0 && strchr(ui->snap.email, '@') && !ui->editing) /* deployed */
		tui_field_set(&ui->email, ui->email.label, ui->email.max, ui->snap.email);
	if (ui->region.len == 0 && ui->snap.region[0] && !ui->editing) /* the client's region */
		tui_field_set(&ui->region, ui->region.label, ui->region.max, ui->snap.region);
	if (*first && ui->snap.deployed >= 0) {
		*first = 0;
		if (ui->snap.deployed == 1 && ui->screen == TUI_SCR_WIZARD && ui->step == 0 &&
		    ui->overlay == TUI_OV_NONE)
			ui->screen = TUI_SCR_DASHBOARD;
	}
}

/* The loop: sleep in poll() on the terminal and the adapter's descriptor; redraw only
 * when a key came or the snapshot changed. */
static int run_loop(struct tui_ui *ui)
{
	int redraw = 1, first = 1;

	for (;;) {
		struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { tui_data_fd(ui->data), POLLIN, 0 } };
		int ch;

		if (redraw)
			draw_all(ui);
		redraw = 0;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (got_signal)
			return got_signal == SIGINT ? 130 : 128 + got_signal;
		if (p[1].revents & POLLIN) {
			take_snapshot(ui, &first);
			redraw = 1;
		}
		if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			return 0; /* the terminal went away */
		for (ch = getch(); ch != ERR; ch = getch()) {
			int f = handle_key(ui, ch);

			if (f & TUI_F_QUIT)
				return 0;
			if (f & (TUI_F_REDRAW | TUI_F_HANDLED))
				redraw = 1;
		}
	}
}

static int locale_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* Does the start need the target picker? Only when nothing on the command line or in
 * CLEANOPS_TARGET chose a target and AWS credentials exist (else: the sandbox). A config
 * that cannot be read shows the picker too, which says why and still offers the sandbox. */
static int needs_picker(const struct cli_args *args)
{
	const char *env = getenv("CLEANOPS_TARGET");
	char err[256];

	if (cli_get(args, "target") || cli_get(args, "endpoint") || cli_get(args, "profile") ||
	    (env && *env))
		return 0;
	return tui_target_have_credentials(NULL, cli_get(args, "region"), err, sizeof(err)) != 0;
}

/* Curses up: keys, no echo, colours, the mouse (click and wheel). */
static void curses_setup(struct tui_ui *ui)
{
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mouseinterval(0); /* presses come at once; no click detection delay */
	mousemask(ui->mouse_off ? 0 : CONSOLE_MOUSE, NULL);
	tui_draw_init_colors(&ui->dr);
	getmaxyx(stdscr, ui->dr.rows, ui->dr.cols);
}

int tui_console_run(int argc, char **argv)
{
	static struct tui_ui ui; /* large (snapshot); one per process */
	struct cli_args args;
	struct tui_target target;
	char err[512];
	const char *stack;
	int rc, pick;

	setlocale(LC_ALL, "");
	rc = cli_parse(&console_cmd, argc > 1 ? argc - 1 : 0, argv + 1, &args);
	if (rc)
		return rc;
	stack = cli_get(&args, "stack");
	if (!stack || !*stack)
		stack = STACK_DEFAULT;
	if (!stack_name_valid(stack)) {
		fprintf(stderr, "cleanops: invalid stack name '%s' (1-32 of A-Z a-z 0-9 -, "
			"starting with a letter)\n", stack);
		return 2;
	}
	pick = needs_picker(&args);
	if (!pick && tui_target_resolve(&args, &target, err, sizeof(err)) != 0) {
		fprintf(stderr, "cleanops: %s\n", err);
		return 1;
	}
	memset(&ui, 0, sizeof(ui));
	ui.dr.g = locale_is_utf8() ? &tui_glyphs_utf8 : &tui_glyphs_ascii;

	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	if (!initscr()) {
		fprintf(stderr, "cleanops: cannot initialise the terminal\n");
		return 1;
	}
	curses_setup(&ui);
	if (pick && tui_target_pick(&ui.dr, stack, cli_get(&args, "region"), &got_signal,
				    &target) != 0) {
		endwin();
		return got_signal ? 128 + got_signal : 0;
	}
	if (tui_data_new(&target, stack, "/proc/self/exe", &ui.data, err, sizeof(err)) != 0) {
		endwin();
		fprintf(stderr, "cleanops: %s\n", err);
		return 1;
	}
	tui_data_snapshot(ui.data, &ui.snap);
	tui_field_set(&ui.email, "email address", 254, "");
	tui_field_set(&ui.stack, "stack name", 32, stack);
	tui_field_set(&ui.region, "region", 40, ui.snap.region);
	tui_field_set(&ui.filter, "filter", 80, "");

	rc = run_loop(&ui);

	endwin();
	tui_data_free(ui.data);
	return rc;
}
