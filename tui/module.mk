# tui: the command line front end and the ncurses console.
TUI_SRCS := \
	tui/main.c \
	tui/cli.c \
	tui/target.c \
	tui/cmd-call.c \
	tui/cmd-sandbox.c \
	tui/cmd-package.c \
	tui/stackcli.c \
	tui/cmd-deploy.c \
	tui/cmd-status.c \
	tui/cmd-destroy.c \
	tui/console.c \
	tui/console_data.c \
	tui/keys.c \
	tui/draw.c \
	tui/screen_wizard.c \
	tui/screen_dashboard.c \
	tui/screen_dialogs.c \
	tui/screen_target.c \
	tui/cmd-order.c \
	tui/cmd-watch.c
