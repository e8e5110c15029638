# tui: the command line front end and the ncurses console.
TUI_SRCS := \
	tui/main.c \
	tui/cli.c
