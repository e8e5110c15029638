# tui: the command line front end and the ncurses console.
TUI_SRCS := \
	tui/main.c \
	tui/cli.c \
	tui/target.c \
	tui/cmd-call.c \
	tui/cmd-sandbox.c \
	tui/cmd-package.c
