/* screen_target.c: the target picker shown at start when AWS credentials exist: the
 * sandbox, each AWS profile of the config files, or a custom endpoint. */
#include "console.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/config.h"

enum { PICK_MAX = 40, PICK_TOP = 4 };

/* One choice: what kind it is and, for a profile, its name. */
enum pick_kind { PICK_SANDBOX, PICK_ENV, PICK_PROFILE, PICK_ENDPOINT };
struct pick_row {
	enum pick_kind kind;
	char name[128];
};

/* The picker's state (UI thread only). */
struct picker {
	struct tui_draw *dr;
	struct pick_row row[PICK_MAX];
	int n, sel, editing;
	struct tui_field url;
	char msg[256];      /* a validation message or why profiles are missing */
	const char *stack, *region;
};

/* The rows: the sandbox, environment credentials (when AWS_ACCESS_KEY_ID is set), every
 * profile of the config and credentials files, a custom endpoint. */
static void pick_rows(struct picker *p)
{
	char **names = NULL;
	size_t nn = 0;
	struct aws_error err = {0};
	const char *key = getenv("AWS_ACCESS_KEY_ID"), *want = getenv("AWS_PROFILE");

	p->n = 0;
	p->row[p->n++].kind = PICK_SANDBOX;
	if (key && *key)
		p->row[p->n++].kind = PICK_ENV;
	if (aws_config_list_profiles(&names, &nn, &err) != 0) {
		snprintf(p->msg, sizeof(p->msg), "profiles not available: %.200s", err.message);
		nn = 0;
	}
	for (size_t i = 0; i < nn; i++) {
		if (p->n < PICK_MAX - 1) {
			p->row[p->n].kind = PICK_PROFILE;
			snprintf(p->row[p->n].name, sizeof(p->row[p->n].name), "%s", names[i]);
			if (want && strcmp(want, names[i]) == 0)
				p->sel = p->n;
			p->n++;
		}
		free(names[i]);
	}
	free(names);
	p->row[p->n++].kind = PICK_ENDPOINT;
}

static void pick_draw(struct picker *p)
{
	struct tui_draw *dr = p->dr;
	int w = dr->cols - 4;

	erase();
	if (dr->rows < 24 || dr->cols < 80) {
		static const char msg[] = "terminal too small (need 80x24)";
		int x = dr->cols > (int)sizeof(msg) ? (dr->cols - (int)sizeof(msg) + 1) / 2 : 0;

		tui_text(dr, dr->rows / 2, x, dr->cols, TUI_R_WARN, msg);
		refresh();
		return;
	}
	tui_role_on(dr, TUI_R_SEL);
	mvhline(0, 0, ' ', dr->cols);
	tui_role_off(dr, TUI_R_SEL);
	tui_textf(dr, 0, 1, dr->cols - 2, TUI_R_SEL, "stack: %s  region: %s  target: (choose)",
		  p->stack, p->region && *p->region ? p->region : "from the profile");
	tui_box(dr, 1, 0, dr->rows - 2, dr->cols, "Choose the target", TUI_R_NORMAL);
	tui_text(dr, 2, 2, w, TUI_R_NORMAL,
		 "AWS credentials were found. Where should the console work?");
	for (int i = 0; i < p->n && PICK_TOP + i < dr->rows - 5; i++) {
		const struct pick_row *r = &p->row[i];
		enum tui_role role = i == p->sel ? TUI_R_SEL : TUI_R_NORMAL;
		char url[300];

		switch (r->kind) {
		case PICK_SANDBOX:
			tui_textf(dr, PICK_TOP + i, 2, w, role, "%-26s %s", "sandbox",
				  "local AWS on 127.0.0.1, started when not running");
			break;
		case PICK_ENV:
			tui_textf(dr, PICK_TOP + i, 2, w, role, "%-26s %s", "aws (environment)",
				  "real AWS with the AWS_ACCESS_KEY_ID credentials");
			break;
		case PICK_PROFILE:
			tui_textf(dr, PICK_TOP + i, 2, w, role, "aws: %-21.21s %s", r->name,
				  "real AWS with this profile of ~/.aws");
			break;
		case PICK_ENDPOINT:
			snprintf(url, sizeof(url), "%s%s", p->url.text,
				 p->editing ? "_" : "");
			tui_textf(dr, PICK_TOP + i, 2, w, role, "%-26s %s", "custom endpoint", url);
			break;
		}
	}
	if (p->msg[0])
		tui_text(dr, dr->rows - 4, 2, w, TUI_R_ERR, p->msg);
	tui_text(dr, dr->rows - 1, 0, dr->cols, TUI_R_DIM,
		 p->editing ? "type the endpoint URL  Enter: use it  Esc: stop editing"
			    : "j/k or Up/Down: move  Enter or click: choose  e: edit the endpoint  q: quit");
	refresh();
}

/* Resolve the chosen row into t (with the common options preselected on the command line).
 * Returns 0, or -1 with the reason in p->msg. */
static int pick_resolve(struct picker *p, const struct pick_row *r, struct tui_target *t)
{
	struct cli_args a;
	char err[256];

	memset(&a, 0, sizeof(a));
	switch (r->kind) {
	case PICK_SANDBOX:
		a.names[a.nopts] = "target";
		a.values[a.nopts++] = "sandbox";
		break;
	case PICK_ENV:
		a.names[a.nopts] = "target";
		a.values[a.nopts++] = "aws";
		break;
	case PICK_PROFILE:
		a.names[a.nopts] = "target";
		a.values[a.nopts++] = "aws";
		a.names[a.nopts] = "profile";
		a.values[a.nopts++] = r->name;
		break;
	case PICK_ENDPOINT:
		if (strncmp(p->url.text, "http://", 7) != 0 && strncmp(p->url.text, "https://", 8) != 0) {
			snprintf(p->msg, sizeof(p->msg),
				 "endpoint: a URL starting with http:// or https://");
			return -1;
		}
		a.names[a.nopts] = "endpoint";
		a.values[a.nopts++] = p->url.text;
		break;
	}
	if (p->region && *p->region) {
		a.names[a.nopts] = "region";
		a.values[a.nopts++] = p->region;
	}
	if (tui_target_resolve(&a, t, err, sizeof(err)) != 0) {
		snprintf(p->msg, sizeof(p->msg), "%.250s", err);
		return -1;
	}
	return 0;
}

/* Handle one key: 1 when a target was chosen, -1 to quit, 0 otherwise. */
static int pick_key(struct picker *p, int key, struct tui_target *t)
{
	int enter = key == '\r' || key == '\n' || key == KEY_ENTER;

	if (key == KEY_RESIZE) {
		getmaxyx(stdscr, p->dr->rows, p->dr->cols);
		return 0;
	}
	if (p->editing) {
		if (key == 27) {
			p->editing = 0;
		} else if (enter) {
			p->editing = 0;
			return pick_resolve(p, &p->row[p->sel], t) == 0 ? 1 : 0;
		} else {
			tui_field_key(&p->url, key);
		}
		return 0;
	}
	if (key == KEY_MOUSE) {
		MEVENT ev;

		if (getmouse(&ev) != OK || !(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
			return 0;
		if (ev.y < PICK_TOP || ev.y >= PICK_TOP + p->n)
			return 0;
		if (ev.y - PICK_TOP != p->sel) { /* the first click selects, the second chooses */
			p->sel = ev.y - PICK_TOP;
			return 0;
		}
		key = '\r';
		enter = 1;
	}
	if (p->dr->rows < 24 || p->dr->cols < 80)
		return key == 'q' ? -1 : 0;
	if (key == 'q' || key == 27)
		return -1;
	if (key == KEY_UP || key == 'k')
		p->sel = (p->sel + p->n - 1) % p->n;
	else if (key == KEY_DOWN || key == 'j' || key == '\t')
		p->sel = (p->sel + 1) % p->n;
	else if (key == 'e') {
		p->sel = p->n - 1;
		p->editing = 1;
	} else if (enter) {
		p->msg[0] = '\0';
		if (p->row[p->sel].kind == PICK_ENDPOINT && !p->editing) {
			p->editing = 1;
			return 0;
		}
		return pick_resolve(p, &p->row[p->sel], t) == 0 ? 1 : 0;
	}
	return 0;
}

int tui_target_pick(struct tui_draw *dr, const char *stack, const char *region,
		    volatile sig_atomic_t *stop, struct tui_target *t)
{
	static struct picker p; /* one per process, like the console's state */

	memset(&p, 0, sizeof(p));
	p.dr = dr;
	p.stack = stack;
	p.region = region;
	tui_field_set(&p.url, "endpoint", 250, "http://127.0.0.1:4566");
	pick_rows(&p);
	nodelay(stdscr, FALSE);
	for (;;) {
		int key, rc;

		pick_draw(&p);
		key = getch();
		if (*stop)
			return -1;
		if (key == ERR)
			continue;
		rc = pick_key(&p, key, t);
		if (rc != 0) {
			nodelay(stdscr, TRUE);
			return rc > 0 ? 0 : -1;
		}
	}
}
