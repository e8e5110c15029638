# tests: unit tests (cmocka, one binary each) and black-box integration tests.
# Every tests/unit/test_NAME.c is a cmocka binary linked with every library.
UNIT_TESTS := $(basename $(notdir $(wildcard tests/unit/test_*.c)))

UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))
TEST_LIBS := $(LIB_STACK) $(LIB_SANDBOX) $(LIB_LRT) $(LIB_CLIENT)

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS_CMOCKA) $(LIBS_SANDBOX) $(LIBS_CLIENT)

test-build: all $(UNIT_BINS)
test-run: test-build
	sh tests/run.sh $(BUILD)
test: test-run
.PHONY: test-build test-run
