/* test_tui_keys.c: the console's key table: unambiguous bindings, palette names, help text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

/* The table is data with no curses calls: compile it into this test directly (the unit
 * test binaries link the libraries, not tui/). */
#include "tui/keys.c"

/* No key is bound twice where the rows' scopes overlap (one key, one meaning). */
static void test_no_conflicting_bindings(void **state)
{
	(void)state;
	for (size_t i = 0; i < tui_nkeys; i++)
		for (size_t j = i + 1; j < tui_nkeys; j++)
			if (tui_keys[i].key == tui_keys[j].key && (tui_keys[i].scope & tui_keys[j].scope))
				fail_msg("key %s bound twice (rows %zu and %zu)", tui_keys[i].label, i, j);
}

/* Every row has a label, a scope, an action and a line of help; `?` lists them all. */
static void test_rows_complete(void **state)
{
	(void)state;
	for (size_t i = 0; i < tui_nkeys; i++) {
		assert_non_null(tui_keys[i].label);
		assert_true(tui_keys[i].scope != 0);
		assert_true(tui_keys[i].action != TUI_ACT_NONE);
		assert_non_null(tui_keys[i].help);
		assert_true(strlen(tui_keys[i].help) > 3);
	}
}

/* The keys exist: ? help, Esc close, q quit, Tab, / filter, : palette, j/k. */
static void test_required_keys(void **state)
{
	static const struct {
		int key;
		unsigned scope;
		enum tui_action act;
	} want[] = {
		{ '?', TUI_IN_DASHBOARD, TUI_ACT_HELP },   { '?', TUI_IN_OVERLAY, TUI_ACT_HELP },
		{ 27, TUI_IN_OVERLAY, TUI_ACT_CLOSE },     { 'q', TUI_IN_DASHBOARD, TUI_ACT_QUIT },
		{ '\t', TUI_IN_DASHBOARD, TUI_ACT_NEXT_PANEL }, { '/', TUI_IN_DASHBOARD, TUI_ACT_FILTER },
		{ ':', TUI_IN_DASHBOARD, TUI_ACT_PALETTE }, { 'j', TUI_IN_DASHBOARD, TUI_ACT_DOWN },
		{ 'k', TUI_IN_DASHBOARD, TUI_ACT_UP },     { KEY_DOWN, TUI_IN_WIZARD, TUI_ACT_DOWN },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(tui_key_action(want[i].key, want[i].scope), want[i].act);
	assert_int_equal(tui_key_action('q', TUI_IN_OVERLAY), TUI_ACT_NONE);
	assert_int_equal(tui_key_action('Z', TUI_IN_ALL), TUI_ACT_NONE);
}

/* Palette commands: unique names, exact match, unique prefix, ambiguous or unknown: NULL. */
static void test_palette_commands(void **state)
{
	(void)state;
	for (size_t i = 0; i < tui_nkeys; i++) {
		if (!tui_keys[i].command)
			continue;
		assert_ptr_equal(tui_key_command(tui_keys[i].command), &tui_keys[i]);
	}
	assert_int_equal(tui_key_command("cleanup")->action, TUI_ACT_CLEANUP);
	assert_int_equal(tui_key_command("bu")->action, TUI_ACT_BURST);
	assert_null(tui_key_command("d"));     /* dashboard, deploy, dlq */
	assert_null(tui_key_command("nosuch"));
	assert_null(tui_key_command(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_conflicting_bindings),
		cmocka_unit_test(test_rows_complete),
		cmocka_unit_test(test_required_keys),
		cmocka_unit_test(test_palette_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
