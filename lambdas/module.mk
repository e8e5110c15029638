# lambdas: the Runtime API client, the two functions, and `make package`.
# liblrt.a holds the runtime client and the pure parsers (order, stream event), so unit
# tests link them; the mains are linked only into the function binaries.
LRT_SRCS := \
	lambdas/runtime/lrt.c \
	lambdas/order-writer/order.c \
	lambdas/notifier/event.c
WRITER_SRCS := lambdas/order-writer/main.c
NOTIFIER_SRCS := lambdas/notifier/main.c

LAMBDA_BIN := $(BUILD)/lambda/bin
LAMBDA_BINS := $(LAMBDA_BIN)/order-writer $(LAMBDA_BIN)/notifier

# The functions link a lean static libcurl and libxml2 (mk/fnlibs.sh builds them once, from
# the Debian sources of the installed versions, into build/fnlibs for every build directory)
# and OpenSSL, jansson and zlib statically; only glibc stays shared, bundled with its loader
# by `cleanops package`. When the lean libraries cannot be built (offline), fnlibs.sh says so
# and the functions link the system's shared libraries instead: bigger zips, same behaviour.
FNLIBS := build/fnlibs
fn_libs = $$(cat $(FNLIBS)/libs)

$(FNLIBS)/mode: mk/fnlibs.sh
	rm -f $@
	sh mk/fnlibs.sh $(FNLIBS)

# The function binaries keep their symbols but not their debug info (-S): it is the zip
# that ships. Each links the runtime, then the AWS client.
$(LAMBDA_BIN)/order-writer: $(patsubst %.c,$(OBJ)/%.o,$(WRITER_SRCS)) $(LIB_LRT) $(LIB_CLIENT) $(FNLIBS)/mode
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter-out $(FNLIBS)/mode,$^) $(ALL_LDFLAGS) -Wl,-S $(fn_libs)

$(LAMBDA_BIN)/notifier: $(patsubst %.c,$(OBJ)/%.o,$(NOTIFIER_SRCS)) $(LIB_LRT) $(LIB_CLIENT) $(FNLIBS)/mode
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter-out $(FNLIBS)/mode,$^) $(ALL_LDFLAGS) -Wl,-S $(fn_libs)

lambdas: $(LAMBDA_BINS)

# The two zips, built by cleanops itself (aws/stack/package.c) from these binaries.
package: $(BUILD)/cleanops $(LAMBDA_BINS)
	$(BUILD)/cleanops package --bin $(LAMBDA_BIN) --out $(BUILD)/lambda

.PHONY: lambdas package
