/* state.h: the stack's state file: one JSON file per target and stack, atomic, mode 0600. */
#ifndef CLEANOPS_STACK_STATE_H
#define CLEANOPS_STACK_STATE_H

#include <jansson.h>
#include <stddef.h>

/* The state directory into out: dir if given, else $XDG_STATE_HOME/cleanops, else
 * ~/.local/state/cleanops. Returns 0, or -1 when it does not fit. */
int stack_state_dir(const char *dir, char *out, size_t n);
/* The file for target label and stack in dir: "<dir>/stack-<label>-<stack>.json", the label
 * reduced to [A-Za-z0-9._-]. Returns 0, or -1 when it does not fit. */
int stack_state_file(const char *dir, const char *label, const char *stack, char *out, size_t n);
/* Load path: 0 and *out (new object; {} when the file does not exist), 1 when the file is
 * corrupt (why says how; *out is a new empty object), -1 when it cannot be read (why). */
int stack_state_load(const char *path, json_t **out, char *why, size_t whylen);
/* Write state (borrowed) to path atomically (temp file in the same directory, fsync,
 * rename), mode 0600, creating the directory (0700). Returns 0, or -1 with why. */
int stack_state_save(const char *path, json_t *state, char *why, size_t whylen);

#endif
