/* keys.c: the console's one key table: key, where it applies, action, palette name, help. */
#include "console.h"

#include <curses.h>
#include <string.h>

const struct tui_key tui_keys[] = {
	{ '?', "?", TUI_IN_ALL, TUI_ACT_HELP, "help", "show this help (every key)" },
	{ 27, "Esc", TUI_IN_OVERLAY, TUI_ACT_CLOSE, NULL, "close the overlay or dialog" },
	{ 'q', "q", TUI_IN_SCREENS, TUI_ACT_QUIT, "quit", "quit the console" },
	{ ':', ":", TUI_IN_SCREENS, TUI_ACT_PALETTE, NULL, "command palette (type a command, Enter)" },
	{ KEY_UP, "Up", TUI_IN_ALL, TUI_ACT_UP, NULL, "move up / scroll up" },
	{ 'k', "k", TUI_IN_SCREENS, TUI_ACT_UP, NULL, "move up / scroll up" },
	{ KEY_DOWN, "Down", TUI_IN_ALL, TUI_ACT_DOWN, NULL, "move down / scroll down" },
	{ 'j', "j", TUI_IN_SCREENS, TUI_ACT_DOWN, NULL, "move down / scroll down" },
	{ KEY_PPAGE, "PgUp", TUI_IN_ALL, TUI_ACT_PAGE_UP, NULL, "scroll a page up" },
	{ KEY_NPAGE, "PgDn", TUI_IN_ALL, TUI_ACT_PAGE_DOWN, NULL, "scroll a page down" },
	{ '\t', "Tab", TUI_IN_DASHBOARD, TUI_ACT_NEXT_PANEL, NULL, "next panel" },
	{ KEY_BTAB, "S-Tab", TUI_IN_DASHBOARD, TUI_ACT_PREV_PANEL, NULL, "previous panel" },
	{ '/', "/", TUI_IN_DASHBOARD, TUI_ACT_FILTER, "filter", "filter the Lambda logs" },
	{ 'o', "o", TUI_IN_SCREENS, TUI_ACT_ORDER, "order", "submit one order (form)" },
	{ 'b', "b", TUI_IN_SCREENS, TUI_ACT_BURST, "burst", "send a burst of orders (count, rate)" },
	{ 'D', "D", TUI_IN_SCREENS, TUI_ACT_DLQ, "dlq", "inspect and redrive dead-letter messages" },
	{ 'P', "P", TUI_IN_SCREENS, TUI_ACT_PURGE, "purge", "purge the order queue" },
	{ 'R', "R", TUI_IN_SCREENS, TUI_ACT_REDEPLOY, "redeploy", "redeploy the stack" },
	{ 'C', "C", TUI_IN_SCREENS, TUI_ACT_CLEANUP, "cleanup", "delete the whole stack" },
	{ 'm', "m", TUI_IN_SCREENS, TUI_ACT_MAIL, "mail",
	  "sandbox mailbox: read the emails, confirm the subscription" },
	{ 'M', "M", TUI_IN_SCREENS, TUI_ACT_MOUSE, "mouse",
	  "mouse off/on (off: the terminal selects text; on: click and wheel)" },
	{ 'w', "w", TUI_IN_SCREENS, TUI_ACT_WIZARD, "wizard", "the setup wizard" },
	{ 'd', "d", TUI_IN_SCREENS, TUI_ACT_DASHBOARD, "dashboard", "the live dashboard" },
	{ 'n', "n", TUI_IN_WIZARD, TUI_ACT_NEXT, "next", "wizard: next step" },
	{ KEY_RIGHT, "Right", TUI_IN_WIZARD, TUI_ACT_NEXT, NULL, "wizard: next step" },
	{ 'p', "p", TUI_IN_WIZARD, TUI_ACT_PREV, NULL, "wizard: previous step" },
	{ KEY_LEFT, "Left", TUI_IN_WIZARD, TUI_ACT_PREV, NULL, "wizard: previous step" },
	{ 'g', "g", TUI_IN_WIZARD, TUI_ACT_DEPLOY, "deploy", "wizard: deploy the stack" },
	{ 'r', "r", TUI_IN_WIZARD, TUI_ACT_RETRY, "retry", "wizard: retry a failed deploy" },
};
const size_t tui_nkeys = sizeof(tui_keys) / sizeof(tui_keys[0]);

enum tui_action tui_key_action(int key, unsigned scope)
{
	for (size_t i = 0; i < tui_nkeys; i++)
		if (tui_keys[i].key == key && (tui_keys[i].scope & scope))
			return tui_keys[i].action;
	return TUI_ACT_NONE;
}

const struct tui_key *tui_key_command(const char *name)
{
	const struct tui_key *found = NULL;
	size_t len = strlen(name);

	if (len == 0)
		return NULL;
	for (size_t i = 0; i < tui_nkeys; i++) {
		if (!tui_keys[i].command)
			continue;
		if (strcmp(tui_keys[i].command, name) == 0)
			return &tui_keys[i];
		if (strncmp(tui_keys[i].command, name, len) == 0) {
			if (found)
				return NULL; /* ambiguous prefix */
			found = &tui_keys[i];
		}
	}
	return found;
}
