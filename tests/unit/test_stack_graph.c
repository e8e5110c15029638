/* test_stack_graph.c: the resource graph: the shipped rows order correctly; cycles are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "aws/stack/stack.h"

static size_t pos_of(const struct stack_resource *rows, const size_t *order, size_t n,
		     const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[order[i]].id, id) == 0)
			return i;
	fail_msg("no row %s", id);
	return n;
}

/* Every dependency of every shipped row comes before it. */
static void test_rows_topological(void **state)
{
	size_t order[STACK_MAX_RESOURCES];
	size_t n = stack_rows_count;

	(void)state;
	assert_true(n <= STACK_MAX_RESOURCES);
	assert_int_equal(stack_graph_order(stack_rows, n, order), 0);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < STACK_MAX_DEPS && stack_rows[i].deps[k]; k++)
			assert_true(pos_of(stack_rows, order, n, stack_rows[i].deps[k]) <
				    pos_of(stack_rows, order, n, stack_rows[i].id));
}

/* The orderings the pipeline needs, spelled out. */
static void test_rows_expected_edges(void **state)
{
	static const char *const before[][2] = {
		{ "policy-write-ddb", "role-writer" }, { "role-writer", "fn-writer" },
		{ "table", "fn-writer" },              { "log-writer", "fn-writer" },
		{ "fn-writer", "esm-queue" },          { "queue", "esm-queue" },
		{ "dlq", "queue" },                    { "table", "esm-stream" },
		{ "failures", "esm-stream" },          { "topic", "fn-notifier" },
		{ "topic", "sub-deliveries" },         { "deliveries", "sub-deliveries" },
		{ "role-api", "api" },                 { "queue", "api" },
		{ "api", "api-stage" },
	};
	size_t order[STACK_MAX_RESOURCES], n = stack_rows_count;

	(void)state;
	assert_int_equal(stack_graph_order(stack_rows, n, order), 0);
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++)
		assert_true(pos_of(stack_rows, order, n, before[i][0]) <
			    pos_of(stack_rows, order, n, before[i][1]));
}

static void test_unique_ids_and_functions(void **state)
{
	(void)state;
	for (size_t i = 0; i < stack_rows_count; i++) {
		const struct stack_resource *r = &stack_rows[i];

		assert_non_null(r->read);
		assert_non_null(r->create);
		assert_non_null(r->update);
		assert_non_null(r->del);
		assert_non_null(r->ready);
		for (size_t j = i + 1; j < stack_rows_count; j++)
			assert_string_not_equal(r->id, stack_rows[j].id);
	}
}

static void test_cycle_and_unknown(void **state)
{
	struct stack_resource cyc[3] = {
		{ .id = "a", .deps = { "c" } },
		{ .id = "b", .deps = { "a" } },
		{ .id = "c", .deps = { "b" } },
	};
	struct stack_resource unk[2] = {
		{ .id = "a" },
		{ .id = "b", .deps = { "nope" } },
	};
	struct stack_resource diamond[4] = {
		{ .id = "d", .deps = { "b", "c" } },
		{ .id = "b", .deps = { "a" } },
		{ .id = "c", .deps = { "a" } },
		{ .id = "a" },
	};
	size_t order[4];

	(void)state;
	assert_int_equal(stack_graph_order(cyc, 3, order), -1);
	assert_int_equal(stack_graph_order(unk, 2, order), -1);
	assert_int_equal(stack_graph_order(diamond, 4, order), 0);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[3], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_topological),
		cmocka_unit_test(test_rows_expected_edges),
		cmocka_unit_test(test_unique_ids_and_functions),
		cmocka_unit_test(test_cycle_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
