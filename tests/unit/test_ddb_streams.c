/* test_ddb_streams.c: the Streams read API for the Lambda poller (streams.h) against a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aws/sandbox/sandbox.h"
#include "aws/sandbox/streams.h"

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void test_read_api(void **state)
{
	char dir[] = "/tmp/cleanops-streams-XXXXXX", err[256], arn[512], label[32];
	char last[SBX_SEQ_LEN], latest[SBX_SEQ_LEN], cmd[600];
	struct sbx_opts o = {0};
	struct sbx *s = NULL;
	json_t *ks = json_loads("[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}]", 0, NULL);
	json_t *recs = NULL;
	long long sid = 0;
	int closed = -1;
	sqlite3 *db;
	(void)state;
	assert_non_null(mkdtemp(dir));
	o.port = free_port();
	o.data_dir = dir;
	assert_int_equal(sbx_start(&o, &s, err, sizeof(err)), 0);
	assert_int_equal(sbx_streams_latest(s, "arn:nope", latest), SBX_STREAMS_NOT_FOUND);
	db = sbx_db_lock(s);
	assert_int_equal(sbx_streams_create(s, db, "us-east-1", "T", ks, "NEW_IMAGE", arn,
					    sizeof(arn), label, &sid), 0);
	for (int i = 0; i < 5; i++) {
		char k[64];
		json_t *keys, *img;
		snprintf(k, sizeof(k), "{\"pk\":{\"S\":\"k%d\"}}", i);
		keys = json_loads(k, 0, NULL);
		img = json_loads(k, 0, NULL);
		assert_int_equal(sbx_streams_append(s, db, sid, "us-east-1", "NEW_IMAGE", "INSERT",
						    keys, NULL, img), 0);
		json_decref(keys);
		json_decref(img);
	}
	sbx_db_unlock(s);
	assert_int_equal(sbx_streams_read(s, arn, NULL, 3, &recs, last, &closed), 0);
	assert_int_equal(json_array_size(recs), 3);
	assert_int_equal(closed, 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "eventSourceARN")), arn);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(recs, 2),
				"dynamodb"), "SequenceNumber")), last);
	json_decref(recs);
	assert_int_equal(sbx_streams_read(s, arn, last, 100, &recs, last, &closed), 0);
	assert_int_equal(json_array_size(recs), 2);
	json_decref(recs);
	assert_int_equal(sbx_streams_latest(s, arn, latest), 0);
	assert_string_equal(latest, last);
	db = sbx_db_lock(s);
	assert_int_equal(sbx_streams_close(s, db, sid), 0);
	sbx_db_unlock(s);
	assert_int_equal(sbx_streams_read(s, arn, last, 100, &recs, last, &closed), 0);
	assert_int_equal(json_array_size(recs), 0);
	assert_int_equal(closed, 1);
	json_decref(recs);
	sbx_stop(s);
	json_decref(ks);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
