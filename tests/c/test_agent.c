/*
 * The C ABI as a client of a running farmvault agent: fv_vault_connect, the
 * same calls as on a direct handle, fv_vault_access, and a child made by
 * fork() that goes on using its parent's handle (it connects anew).
 *
 * Built by scripts/test-c.sh, which starts the agent with the CLI and runs
 * this beside a Python client and the CLI, all writing at once.
 * With the vault's path and passphrase as well, an open with the passphrase
 * checks it and then goes through the agent, unless the options ask for the
 * vault itself (then FV_LOCKED at once, naming the agent).
 * Usage: test_agent <socket> <name prefix> <count> [<vault> <passphrase>]
 */
#define _POSIX_C_SOURCE 200809L

#include "farmvault.h"
#include "check.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


/* Whether entry `name` holds exactly `expected`. */
static int holds(const fv_vault *vault, const char *name, const char *expected) {
    fv_entry *entry = NULL;
    fv_secret *secret = NULL;
    int same = 0;
    if (fv_vault_get(vault, name, &entry) != FV_OK) {
        return 0;
    }
    if (fv_entry_field(entry, FV_FIELD_SECRET, &secret) == FV_OK) {
        same = fv_secret_len(secret) == strlen(expected) &&
               memcmp(fv_secret_data(secret), expected, strlen(expected)) == 0;
        fv_secret_free(secret);
    }
    fv_entry_free(entry);
    return same;
}

int main(int argc, char **argv) {
    fv_vault *vault = NULL;
    uint32_t access = 99;
    char name[256];
    char value[256];
    int i, count, status = 0;
    pid_t pid;
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s <socket> <name prefix> <count> [<vault> <passphrase>]\n",
                argv[0]);
        return 2;
    }
    count = atoi(argv[3]);
    CHECK(fv_vault_connect(argv[1], &vault) == FV_OK);
    if (vault == NULL) {
        printf("test_agent (C): %d passed, %d failed\n", passed, failed);
        return 1;
    }
    CHECK(fv_vault_access(vault, &access) == FV_OK && access == FV_ACCESS_AGENT);
    for (i = 0; i < count; i++) {
        snprintf(name, sizeof name, "%s/%d", argv[2], i);
        snprintf(value, sizeof value, "c-%d", i);
        CHECK(fv_vault_put(vault, name, U8(value), strlen(value), 3600) == FV_OK);
    }
    for (i = 0; i < count; i++) {
        snprintf(name, sizeof name, "%s/%d", argv[2], i);
        snprintf(value, sizeof value, "c-%d", i);
        CHECK(holds(vault, name, value));
    }
    snprintf(name, sizeof name, "%s/missing", argv[2]);
    {
        fv_entry *entry = NULL;
        CHECK(fv_vault_get(vault, name, &entry) == FV_NOT_FOUND && entry == NULL);
    }

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int bad = 0;
        alarm(20);
        snprintf(name, sizeof name, "%s/forked", argv[2]);
        if (fv_vault_put(vault, name, U8("f"), 1, 0) != FV_OK) bad |= 1;
        snprintf(name, sizeof name, "%s/0", argv[2]);
        if (!holds(vault, name, "c-0")) bad |= 2;
        fv_vault_close(vault);
        _exit(bad);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(name, sizeof name, "%s/forked", argv[2]);
    CHECK(holds(vault, name, "f"));
    fv_vault_close(vault);

    if (argc == 6) {
        fv_options *opts = NULL;
        fv_vault *opened = NULL;
        const char *pw = argv[5];
        CHECK(fv_options_new(&opts) == FV_OK);
        CHECK(fv_vault_open_passphrase(argv[4], U8(pw), strlen(pw), opts, &opened) == FV_OK);
        CHECK(fv_vault_access(opened, &access) == FV_OK && access == FV_ACCESS_AGENT);
        snprintf(name, sizeof name, "%s/0", argv[2]);
        CHECK(holds(opened, name, "c-0"));
        fv_vault_close(opened);
        opened = NULL;
        CHECK(fv_vault_open_passphrase(argv[4], U8("not it"), 6, opts, &opened) == FV_WRONG_KEY);
        CHECK(fv_options_set_use_agent(opts, false) == FV_OK);
        CHECK(fv_vault_open_passphrase(argv[4], U8(pw), strlen(pw), opts, &opened) == FV_LOCKED);
        CHECK(strstr(fv_last_error_message(), "farmvault agent") != NULL);
        CHECK(fv_options_set_use_agent(NULL, true) == FV_INVALID_ARGUMENT);
        fv_options_free(opts);
    }
    printf("test_agent (C): %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
