/* console.h: the ncurses console: screens, overlays and key rows shared by its files. */
#ifndef CLEANOPS_TUI_CONSOLE_H
#define CLEANOPS_TUI_CONSOLE_H

#include <signal.h>
#include <stddef.h>

#include "console_data.h"
#include "draw.h"

/* Open the console (argv as given to cleanops; options preselect the target). Returns the
 * process exit code: 0 on quit. */
int tui_console_run(int argc, char **argv);

/* The target picker (screen_target.c), shown before the console when AWS credentials
 * exist and no --target, --endpoint or --profile chose: the sandbox, environment
 * credentials, each profile of the config files, a custom endpoint. Curses must be up.
 * region (may be NULL) is preselected. Returns 0 with *t resolved, or -1 when the user
 * quit or *stop was set by a signal. */
int tui_target_pick(struct tui_draw *dr, const char *stack, const char *region,
		    volatile sig_atomic_t *stop, struct tui_target *t);

/* The screens; each owns a draw and a key function (a row of tui_screens). */
enum tui_screen_id { TUI_SCR_WIZARD, TUI_SCR_DASHBOARD, TUI_SCR_COUNT };

/* Overlays drawn over a screen (a row of tui_dialogs each). */
enum tui_overlay { TUI_OV_NONE, TUI_OV_HELP, TUI_OV_ORDER, TUI_OV_BURST, TUI_OV_DLQ, TUI_OV_PURGE,
		   TUI_OV_REDEPLOY, TUI_OV_CLEANUP, TUI_OV_PALETTE, TUI_OV_MAIL, TUI_OV_COUNT };

/* Where a key row applies (bits). */
enum tui_scope { TUI_IN_WIZARD = 1, TUI_IN_DASHBOARD = 2, TUI_IN_OVERLAY = 4,
		 TUI_IN_SCREENS = 3, TUI_IN_ALL = 7 };

/* What a key does. */
enum tui_action { TUI_ACT_NONE, TUI_ACT_QUIT, TUI_ACT_HELP, TUI_ACT_CLOSE, TUI_ACT_UP,
		  TUI_ACT_DOWN, TUI_ACT_PAGE_UP, TUI_ACT_PAGE_DOWN, TUI_ACT_NEXT_PANEL,
		  TUI_ACT_PREV_PANEL, TUI_ACT_FILTER, TUI_ACT_PALETTE, TUI_ACT_ORDER,
		  TUI_ACT_BURST, TUI_ACT_DLQ, TUI_ACT_PURGE, TUI_ACT_REDEPLOY, TUI_ACT_CLEANUP,
		  TUI_ACT_WIZARD, TUI_ACT_DASHBOARD, TUI_ACT_NEXT, TUI_ACT_PREV, TUI_ACT_DEPLOY,
		  TUI_ACT_RETRY, TUI_ACT_MAIL, TUI_ACT_MOUSE };

/* One key binding: the only place keys are defined; `?` and `:` list these rows. */
struct tui_key {
	int key;              /* ncurses key code */
	const char *label;    /* how help shows it: "q", "Tab", "Esc" */
	unsigned scope;       /* enum tui_scope bits */
	enum tui_action action;
	const char *command;  /* name in the `:` palette, or NULL */
	const char *help;     /* one line for `?` */
};
extern const struct tui_key tui_keys[];
extern const size_t tui_nkeys;
/* The action of key in scope (TUI_ACT_NONE when unbound). */
enum tui_action tui_key_action(int key, unsigned scope);
/* The row whose palette command is name (exact or unique prefix), or NULL. */
const struct tui_key *tui_key_command(const char *name);

/* Flags returned by key handlers (htop style). */
enum { TUI_F_HANDLED = 1, TUI_F_REDRAW = 2, TUI_F_QUIT = 4 };

/* An editable one-line text field. */
struct tui_field {
	const char *label;
	char text[260];
	size_t len;
	size_t max;        /* longest accepted text, < sizeof(text) */
};
/* Feed key to a field: printable chars append, Backspace deletes. Returns nonzero when
 * the key was used. */
int tui_field_key(struct tui_field *f, int key);
/* Set a field's label, limit and text. */
void tui_field_set(struct tui_field *f, const char *label, size_t max, const char *text);

/* Dashboard panels. */
enum tui_panel { TUI_P_ITEMS, TUI_P_STREAM, TUI_P_DELIVERIES, TUI_P_LOGS, TUI_P_EVENTS,
		 TUI_P_COUNT };

/* The UI thread's state (no locks: only the UI thread touches it). */
struct tui_ui {
	struct tui_data *data;
	struct tui_snapshot snap;
	struct tui_draw dr;
	enum tui_screen_id screen;
	enum tui_overlay overlay;
	int help_scroll;
	/* wizard */
	int step;                     /* index into the wizard's steps */
	int focus;                    /* focused field on the inputs step */
	int editing;                  /* typing into the focused field */
	int mouse_off;                /* M: the terminal has the mouse (selecting text) */
	struct tui_field email, stack, region;
	char wizard_msg[256];
	/* dashboard */
	enum tui_panel panel;
	int scroll[TUI_P_COUNT];
	int filtering;                /* editing the log filter */
	struct tui_field filter;
	/* dialogs */
	struct tui_field f[3];        /* the open dialog's fields */
	int dfocus;
	int submitted;                /* the dialog's job was started */
	char dmsg[256];               /* validation or state message */
};

/* A screen row. */
struct tui_screen {
	const char *name;
	void (*draw)(struct tui_ui *ui);
	int (*key)(struct tui_ui *ui, int key, enum tui_action act);
	/* A mouse event at (y, x) with ncurses' bstate bits; returns TUI_F_* flags. */
	int (*mouse)(struct tui_ui *ui, int y, int x, unsigned long bstate);
};
extern const struct tui_screen tui_screen_wizard;
extern const struct tui_screen tui_screen_dashboard;

/* Open overlay ov (resets its fields). */
void tui_dialog_open(struct tui_ui *ui, enum tui_overlay ov);
/* Draw the open overlay, if any. */
void tui_dialog_draw(struct tui_ui *ui);
/* Give key to the open overlay; returns TUI_F_* flags. */
int tui_dialog_key(struct tui_ui *ui, int key);
/* Run a global action (dialogs, screen switches); returns TUI_F_* flags. */
int tui_console_action(struct tui_ui *ui, enum tui_action act);

/* Validate an order form: item 1-256 chars, quantity 1-10000. Returns 0, or -1 with the
 * reason in msg. */
int tui_order_validate(const char *item, const char *quantity, long *qty_out, char *msg, size_t n);

#endif
