# tests/fuzz: libFuzzer targets over the parsers and the sandbox's router (clang only).
#   make fuzz [FUZZ_SECONDS=60]   build into build/fuzz with libFuzzer, ASan and UBSan, run
#                                 every target that long; fails on any crash, leak or hang
#                                 (reproducers in build/fuzz/crashes/<target>/)
# Each tests/fuzz/fuzz_NAME.c is one target; its seeds are tests/fuzz/corpus/NAME/. The corpus
# libFuzzer grows goes to build/fuzz/corpus/NAME/ (scratch, never committed).
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LIBS := $(LIB_SANDBOX) $(LIB_LRT) $(LIB_CLIENT)

# In the sub-make (BUILD=build/fuzz, CC=clang): one libFuzzer binary per target.
$(BUILD)/fuzz-bin/fuzz_%: $(OBJ)/tests/fuzz/fuzz_%.o $(FUZZ_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(LIBS_SANDBOX) $(LIBS_CLIENT)

# The same targets with a plain main that replays files (tests/integration/fuzz_corpus.sh).
$(BUILD)/fuzz-replay/fuzz_%: $(OBJ)/tests/fuzz/fuzz_%.o $(OBJ)/tests/fuzz/replay.o $(FUZZ_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS_SANDBOX) $(LIBS_CLIENT)

fuzz-bins: $(addprefix $(BUILD)/fuzz-bin/fuzz_,$(FUZZ_NAMES))
fuzz-replay: $(addprefix $(BUILD)/fuzz-replay/fuzz_,$(FUZZ_NAMES))

fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
		LDFLAGS="$(FUZZ_SAN)" fuzz-bins
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

.PHONY: fuzz-bins fuzz-replay
