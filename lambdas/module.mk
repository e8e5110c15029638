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

# The function binaries keep their symbols but not their debug info (-S): it is the zip
# that ships. Each links the runtime, then the AWS client.
$(LAMBDA_BIN)/order-writer: $(patsubst %.c,$(OBJ)/%.o,$(WRITER_SRCS)) $(LIB_LRT) $(LIB_CLIENT)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) -Wl,-S $(LIBS_CLIENT)

$(LAMBDA_BIN)/notifier: $(patsubst %.c,$(OBJ)/%.o,$(NOTIFIER_SRCS)) $(LIB_LRT) $(LIB_CLIENT)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) -Wl,-S $(LIBS_CLIENT)

lambdas: $(LAMBDA_BINS)

# The two zips, built by cleanops itself (aws/stack/package.c) from these binaries.
package: $(BUILD)/cleanops $(LAMBDA_BINS)
	$(BUILD)/cleanops package --bin $(LAMBDA_BIN) --out $(BUILD)/lambda

.PHONY: lambdas package
