/* screen_wizard.c: the setup wizard: the seed's tasks as steps, the three questions, deploy. */
#include "console.h"

#include <curses.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/stack/names.h"
#include "aws/stack/policy.h"

/* A resource a step creates: its kind, base name and settings. */
struct wiz_res {
	const char *kind;
	const char *base;
	const char *settings;
};

/* One wizard step: the seed's task, what it creates, the policies it renders. */
struct wiz_step {
	const char *title;
	const char *what;
	struct wiz_res res[5];
	const char *policies[3]; /* files in policies/, without .json */
};

static const struct wiz_step steps[] = {
	{ "Settings", "The three things only you can decide. Everything else follows the seed.",
	  { { NULL, NULL, NULL } }, { NULL } },
	{ "IAM policies and roles",
	  "Least-privilege policies scoped to the stack's own ARNs, and the three roles.",
	  { { "role", STACK_ROLE_WRITER, "trust lambda.amazonaws.com; Write-DynamoDB + Read-SQS" },
	    { "role", STACK_ROLE_NOTIFIER, "trust lambda.amazonaws.com; Streams-Read + SNS-Publish" },
	    { "role", STACK_ROLE_API, "trust apigateway.amazonaws.com; SQS send to the queue" },
	    { NULL, NULL, NULL } },
	  { "Lambda-Write-DynamoDB", "Lambda-Read-SQS", "APIGateway-SQS-Send" } },
	{ "DynamoDB table", "The orders table; the stream feeds the notifier.",
	  { { "table", STACK_TABLE, "key orderID (S), on-demand, stream NEW_IMAGE" },
	    { NULL, NULL, NULL } }, { NULL } },
	{ "SQS queues", "The order queue with its dead-letter queue (5 failed receives).",
	  { { "queue", STACK_QUEUE, "redrive to the DLQ after 5 receives; access policy for the roles" },
	    { "queue", STACK_DLQ, "dead letters, 14 days" },
	    { "queue", STACK_STREAM_FAILURES, "failed stream batches of the notifier" },
	    { NULL, NULL, NULL } }, { NULL } },
	{ "Function 1 and its trigger", "The order writer, fed by the queue.",
	  { { "function", STACK_FN_WRITER, "provided.al2023, env ORDERS_TABLE, role Lambda-SQS-DynamoDB" },
	    { "mapping", STACK_QUEUE, "batch 10, ReportBatchItemFailures" },
	    { NULL, NULL, NULL } }, { "Lambda-Write-DynamoDB" } },
	{ "DynamoDB stream", "The table's stream of new images, read from TRIM_HORIZON.",
	  { { "stream", STACK_TABLE, "NEW_IMAGE" }, { NULL, NULL, NULL } },
	  { "Lambda-DynamoDBStreams-Read" } },
	{ "SNS topic and email", "Notifications: the topic, the email subscription (you confirm "
	  "it once) and the deliveries queue.",
	  { { "topic", STACK_TOPIC, "Subject \"New Order Notification\"" },
	    { "subscription", STACK_TOPIC, "email to your address (pending until confirmed)" },
	    { "queue", STACK_DELIVERIES, "raw delivery, lets the console watch deliveries" },
	    { NULL, NULL, NULL } }, { NULL } },
	{ "Function 2 and its trigger", "The notifier, fed by the stream.",
	  { { "function", STACK_FN_NOTIFIER, "provided.al2023, env TOPIC_ARN, role Lambda-DynamoDBStreams-SNS" },
	    { "mapping", STACK_TABLE, "TRIM_HORIZON, on failure to the stream-failures queue" },
	    { NULL, NULL, NULL } }, { "Lambda-SNS-Publish" } },
	{ "API", "REST API with request validation, integrated with SQS.",
	  { { "api", STACK_API, "POST /orders, JSON-schema model, stage prod" },
	    { NULL, NULL, NULL } }, { "APIGateway-SQS-Send" } },
	{ "Deploy", "Create or update every resource; progress per resource below.",
	  { { NULL, NULL, NULL } }, { NULL } },
};
enum { NSTEPS = sizeof(steps) / sizeof(steps[0]), STEP_DEPLOY = NSTEPS - 1 };

/* Find policies/NAME.json next to the working directory or the binary; read it into out
 * (truncated to n). Returns 0 or -1. Local files only; small. */
static int read_policy(const char *name, char *out, size_t n)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	const char *dirs[3] = { ".", NULL, NULL };
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char up[PATH_MAX + 8];

	if (len > 0) {
		char *slash;

		exe[len] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		dirs[1] = exe;
		snprintf(up, sizeof(up), "%s/../..", exe); /* build/NAME/cleanops */
		dirs[2] = up;
	}
	for (int i = 0; i < 3; i++) {
		FILE *f;
		size_t got;

		if (!dirs[i])
			continue;
		snprintf(path, sizeof(path), "%s/policies/%s.json", dirs[i], name);
		f = fopen(path, "r");
		if (!f)
			continue;
		got = fread(out, 1, n - 1, f);
		out[got] = '\0';
		fclose(f);
		return 0;
	}
	return -1;
}

/* Is text a plausible email address (something@domain.tld)? */
static int email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	return at && at > s && strchr(at, '.') && at[1] != '.' && s[strlen(s) - 1] != '.' &&
	       !strchr(s, ' ') && strlen(s) <= 254;
}

static int region_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 40)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* Check the settings; on failure say why in ui->wizard_msg. */
static int settings_ok(struct tui_ui *ui)
{
	if (!email_ok(ui->email.text)) {
		snprintf(ui->wizard_msg, sizeof(ui->wizard_msg),
			 "enter a valid email address (name@example.com)");
		ui->focus = 0;
		return 0;
	}
	if (!stack_name_valid(ui->stack.text)) {
		snprintf(ui->wizard_msg, sizeof(ui->wizard_msg),
			 "stack name: 1-32 of A-Z a-z 0-9 -, starting with a letter");
		ui->focus = 1;
		return 0;
	}
	if (!region_ok(ui->region.text)) {
		snprintf(ui->wizard_msg, sizeof(ui->wizard_msg), "region: like us-east-1");
		ui->focus = 2;
		return 0;
	}
	ui->wizard_msg[0] = '\0';
	tui_data_set_stack(ui->data, ui->stack.text, ui->region.text);
	return 1;
}

static const char *state_glyph(const struct tui_ui *ui, enum tui_res_state st, enum tui_role *r)
{
	switch (st) {
	case TUI_RES_DONE: *r = TUI_R_OK; return ui->dr.g->ok;
	case TUI_RES_FAILED: *r = TUI_R_ERR; return ui->dr.g->fail;
	case TUI_RES_WORKING: *r = TUI_R_WARN; return ui->dr.g->busy;
	default: *r = TUI_R_DIM; return ui->dr.g->todo;
	}
}

/* A step's state from the resources the engine reported: failed, working, done (every
 * named resource done), or not known. Mappings, streams and subscriptions have no name of
 * their own in the list and are left out. */
static enum tui_res_state step_state(const struct tui_ui *ui, const struct wiz_step *st)
{
	int named = 0, done = 0;

	for (int i = 0; st->res[i].kind; i++) {
		char name[128];

		if (strcmp(st->res[i].kind, "mapping") == 0 || strcmp(st->res[i].kind, "stream") == 0 ||
		    strcmp(st->res[i].kind, "subscription") == 0)
			continue;
		if (stack_name(ui->snap.stack, st->res[i].base, name, sizeof(name)) != 0)
			continue;
		named++;
		for (int k = 0; k < ui->snap.nres; k++) {
			if (strcmp(ui->snap.res[k].name, name) != 0)
				continue;
			if (ui->snap.res[k].state == TUI_RES_FAILED)
				return TUI_RES_FAILED;
			if (ui->snap.res[k].state == TUI_RES_WORKING)
				return TUI_RES_WORKING;
			if (ui->snap.res[k].state == TUI_RES_DONE) {
				done++;
				break;
			}
		}
	}
	return named > 0 && done == named ? TUI_RES_DONE : TUI_RES_UNKNOWN;
}

static void draw_settings(struct tui_ui *ui, int y, int x, int w)
{
	struct tui_field *fields[3] = { &ui->email, &ui->stack, &ui->region };

	for (int i = 0; i < 3; i++) {
		int sel = ui->focus == i;

		tui_textf(&ui->dr, y + i * 2, x, 16, TUI_R_NORMAL, "%s:", fields[i]->label);
		char shown[300];

		snprintf(shown, sizeof(shown), "%s%s", fields[i]->text, sel && ui->editing ? "_" : "");
		tui_textf(&ui->dr, y + i * 2, x + 16, w - 16, sel ? TUI_R_SEL : TUI_R_NORMAL,
			  "%-40s", shown);
	}
	tui_text(&ui->dr, y + 7, x, w, TUI_R_DIM,
		 ui->editing ? "typing: Enter or Tab ends the field, Esc stops editing"
			     : "j/k: field  Enter: edit it  n or Right: next step");
	if (ui->wizard_msg[0])
		tui_text(&ui->dr, y + 9, x, w, TUI_R_ERR, ui->wizard_msg);
}

static void draw_deploy(struct tui_ui *ui, int y, int x, int w, int h)
{
	const struct tui_snapshot *s = &ui->snap;
	int row = y;

	if (s->deployed == 1 && !(s->job == TUI_JOB_DEPLOY && s->job_running))
		tui_text(&ui->dr, row++, x, w, TUI_R_OK, "The stack is deployed: every step is done.");
	else
		tui_text(&ui->dr, row++, x, w, TUI_R_NORMAL, "Press g to deploy the stack.");
	if (s->job == TUI_JOB_DEPLOY && s->job_status[0])
		tui_text(&ui->dr, row++, x, w, s->job_failed ? TUI_R_ERR : TUI_R_WARN, s->job_status);
	if (s->job == TUI_JOB_DEPLOY && s->job_failed)
		tui_text(&ui->dr, row++, x, w, TUI_R_DIM, "press r to retry");
	row++;
	/* failures first (with their AWS message), then work in progress, then the rest */
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < s->nres && row < y + h; i++) {
			enum tui_res_state st = s->res[i].state;
			int group = st == TUI_RES_FAILED ? 0 : st == TUI_RES_WORKING ? 1 : 2;
			enum tui_role r;
			const char *gl = state_glyph(ui, st, &r);

			if (group != pass)
				continue;
			tui_textf(&ui->dr, row++, x, w, r, "%s %-18s %s", gl, s->res[i].kind,
				  s->res[i].name);
			if (st == TUI_RES_FAILED && s->res[i].message[0] && row < y + h)
				tui_text(&ui->dr, row++, x + 4, w - 4, TUI_R_ERR, s->res[i].message);
		}
	}
}

static void draw_step(struct tui_ui *ui, const struct wiz_step *st, int y, int x, int w, int h)
{
	int row = y;
	char stack[40];

	snprintf(stack, sizeof(stack), "%s", ui->snap.stack);
	tui_text(&ui->dr, row++, x, w, TUI_R_NORMAL, st->what);
	row++;
	tui_text(&ui->dr, row++, x, w, TUI_R_TITLE, "will create:");
	for (int i = 0; st->res[i].kind && row < y + h; i++) {
		char name[128];

		if (stack_name(stack, st->res[i].base, name, sizeof(name)) != 0)
			snprintf(name, sizeof(name), "%s", st->res[i].base);
		tui_textf(&ui->dr, row++, x + 2, w - 2, TUI_R_NORMAL, "%-12s %-28s %s",
			  st->res[i].kind, name, st->res[i].settings);
	}
	for (int p = 0; p < 3 && st->policies[p] && row < y + h - 1; p++) {
		char doc[4096];
		int rendered = 0;

		row++;
		if (read_policy(st->policies[p], doc, sizeof(doc)) != 0) {
			tui_textf(&ui->dr, row++, x, w, TUI_R_TITLE, "policy %s:", st->policies[p]);
			tui_text(&ui->dr, row++, x + 2, w - 2, TUI_R_WARN,
				 "not available: policies/ directory not found");
			continue;
		}
		{
			struct stack_policy_vars v;
			char prefix[48], why[128];

			snprintf(prefix, sizeof(prefix), "%s-", stack);
			v.region = ui->snap.region;
			v.account = ui->snap.account;
			v.stack = stack;
			v.prefix = strcmp(stack, STACK_DEFAULT) == 0 ? "" : prefix;
			char *text = stack_policy_render(doc, &v, why, sizeof(why));

			if (text) { /* else (account not known yet): the template */
				snprintf(doc, sizeof(doc), "%s", text);
				free(text);
				rendered = 1;
			}
		}
		tui_textf(&ui->dr, row++, x, w, TUI_R_TITLE, "policy %s%s:", st->policies[p],
			  rendered ? "" : " (template; ${...} filled in at deploy)");
		for (char *line = doc; *line && row < y + h; row++) {
			char *nl = strchr(line, '\n');

			if (nl)
				*nl = '\0';
			tui_text(&ui->dr, row, x + 2, w - 2, TUI_R_DIM, line);
			if (!nl)
				break;
			line = nl + 1;
		}
	}
}

static void wizard_draw(struct tui_ui *ui)
{
	int rows = ui->dr.rows, cols = ui->dr.cols;
	int listw = 34, x = listw + 2, w = cols - x - 1;

	tui_box(&ui->dr, 1, 0, rows - 2, listw, "Setup", TUI_R_NORMAL);
	for (int i = 0; i < NSTEPS && 2 + i < rows - 2; i++) {
		enum tui_role r = i == ui->step ? TUI_R_SEL : TUI_R_NORMAL, mr;
		enum tui_res_state st = i > 0 && i < STEP_DEPLOY ? step_state(ui, &steps[i])
					: TUI_RES_UNKNOWN;
		const char *mark;

		if (st == TUI_RES_UNKNOWN && i > 0 && ui->snap.deployed == 1)
			st = TUI_RES_DONE;
		mark = state_glyph(ui, st, &mr);
		tui_text(&ui->dr, 2 + i, 1, 2, i == ui->step ? TUI_R_SEL : mr, mark);
		tui_textf(&ui->dr, 2 + i, 3, listw - 4, r, "%d. %-26s", i + 1, steps[i].title);
	}
	tui_box(&ui->dr, 1, listw, rows - 2, cols - listw, steps[ui->step].title, TUI_R_NORMAL);
	if (ui->step == 0)
		draw_settings(ui, 3, x, w);
	else if (ui->step == STEP_DEPLOY)
		draw_deploy(ui, 3, x, w, rows - 6);
	else
		draw_step(ui, &steps[ui->step], 3, x, w, rows - 6);
}

static int go_step(struct tui_ui *ui, int step)
{
	if (step < 0 || step >= NSTEPS)
		return TUI_F_HANDLED;
	if (ui->step == 0 && step > 0 && !settings_ok(ui))
		return TUI_F_HANDLED | TUI_F_REDRAW;
	ui->step = step;
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

static int deploy(struct tui_ui *ui)
{
	struct tui_job_args a;

	memset(&a, 0, sizeof(a));
	if (!settings_ok(ui)) {
		ui->step = 0;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	snprintf(a.email, sizeof(a.email), "%.255s", ui->email.text);
	ui->step = STEP_DEPLOY;
	tui_data_start_job(ui->data, TUI_JOB_DEPLOY, &a);
	return TUI_F_HANDLED | TUI_F_REDRAW;
}

static int wizard_key(struct tui_ui *ui, int key, enum tui_action act)
{
	if (ui->step == 0) { /* the settings form: Enter edits the focused field */
		struct tui_field *fields[3] = { &ui->email, &ui->stack, &ui->region };
		int enter = key == '\r' || key == '\n' || key == KEY_ENTER;

		if (ui->editing) {
			if (enter || key == '\t' || key == 27) {
				ui->editing = 0;
				if (key != 27)
					ui->focus = (ui->focus + 1) % 3;
				return TUI_F_HANDLED | TUI_F_REDRAW;
			}
			tui_field_key(fields[ui->focus], key);
			return TUI_F_HANDLED | TUI_F_REDRAW;
		}
		if (key == KEY_UP || key == 'k' || key == KEY_BTAB) {
			ui->focus = (ui->focus + 2) % 3;
			return TUI_F_HANDLED | TUI_F_REDRAW;
		}
		if (key == KEY_DOWN || key == 'j' || key == '\t') {
			ui->focus = (ui->focus + 1) % 3;
			return TUI_F_HANDLED | TUI_F_REDRAW;
		}
		if (enter) {
			ui->editing = 1;
			return TUI_F_HANDLED | TUI_F_REDRAW;
		}
	}
	switch (act) {
	case TUI_ACT_NEXT:
		return go_step(ui, ui->step + 1);
	case TUI_ACT_PREV:
		return go_step(ui, ui->step - 1);
	case TUI_ACT_UP:
		return go_step(ui, ui->step - 1);
	case TUI_ACT_DOWN:
		return go_step(ui, ui->step + 1);
	case TUI_ACT_DEPLOY:
		return deploy(ui);
	case TUI_ACT_RETRY:
		if (ui->snap.job == TUI_JOB_DEPLOY && ui->snap.job_failed && !ui->snap.job_running)
			return deploy(ui);
		return TUI_F_HANDLED;
	default:
		break;
	}
	if ((key == '\r' || key == '\n') && ui->step == STEP_DEPLOY)
		return deploy(ui);
	if (key == '\r' || key == '\n')
		return go_step(ui, ui->step + 1);
	return 0;
}

/* A click on a step opens it (the settings are checked first, as with n); on the settings
 * step a click on a field focuses it; the wheel moves between steps. */
static int wizard_mouse(struct tui_ui *ui, int y, int x, unsigned long bstate)
{
	if (ui->editing)
		return 0;
	if (bstate & BUTTON4_PRESSED)
		return go_step(ui, ui->step - 1);
	if (bstate & BUTTON5_PRESSED)
		return go_step(ui, ui->step + 1);
	if (!(bstate & BUTTON1_PRESSED))
		return 0;
	if (x < 34 && y >= 2 && y - 2 < NSTEPS)
		return go_step(ui, y - 2);
	if (ui->step == 0 && x >= 36 && y >= 3 && y < 3 + 3 * 2 && (y - 3) % 2 == 0) {
		ui->focus = (y - 3) / 2;
		return TUI_F_HANDLED | TUI_F_REDRAW;
	}
	return 0;
}

const struct tui_screen tui_screen_wizard = {
	.name = "wizard",
	.draw = wizard_draw,
	.key = wizard_key,
	.mouse = wizard_mouse,
};
