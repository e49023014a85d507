/*
 * A vault handle across fork(): in the child every call fails at once with
 * FV_FORKED (an alarm kills a child whose call hangs, which fails the test),
 * closing the handle there is safe, and the parent's handle goes on working
 * with every write it made there afterwards.
 *
 * Built by scripts/test-c.sh like test_farmvault.c (-std=c99 -Wall -Wextra
 * -Wpedantic -Werror) against the shared library.
 * Usage: test_fork <empty scratch directory>
 */
#define _POSIX_C_SOURCE 200809L

#include "farmvault.h"
#include "check.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


/* What the child reports through its exit status: one bit per failed check. */
static int in_child(fv_vault *vault) {
    int bad = 0;
    fv_entry *entry = NULL;
    /* A hang is the failure this test is about: end it. */
    alarm(20);
    if (fv_vault_get(vault, "before", &entry) != FV_FORKED || entry != NULL) bad |= 1;
    if (strstr(fv_last_error_message(), "forked") == NULL) bad |= 2;
    if (fv_vault_put(vault, "from-child", U8("x"), 1, 0) != FV_FORKED) bad |= 4;
    /* Closing the parent's handle here touches nothing of the parent's. */
    fv_vault_close(vault);
    return bad;
}

int main(int argc, char **argv) {
    char path[FV_MAX_PATH_LEN];
    fv_options *opts = NULL;
    fv_vault *vault = NULL;
    fv_entry *entry = NULL;
    int status = 0;
    pid_t pid;
    if (argc != 2 || strlen(argv[1]) + 8 >= sizeof path) {
        fprintf(stderr, "usage: %s <empty scratch directory>\n", argv[0]);
        return 2;
    }
    snprintf(path, sizeof path, "%s/vault", argv[1]);
    CHECK(fv_options_new(&opts) == FV_OK);
    CHECK(fv_options_set_kdf(opts, 8, 1, 1) == FV_OK);
    CHECK(fv_vault_create_passphrase(path, U8("pw"), 2, opts, &vault) == FV_OK);
    CHECK(fv_vault_put(vault, "before", U8("1"), 1, 0) == FV_OK);

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        _exit(in_child(vault));
    }
    CHECK(pid > 0);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        fprintf(stderr, "child failed checks (bits %d)\n", WEXITSTATUS(status));
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "child killed by signal %d (SIGALRM: a call hung)\n", WTERMSIG(status));
    }

    /* The parent's handle still works, and the child wrote nothing. */
    CHECK(fv_vault_put(vault, "after", U8("2"), 1, 0) == FV_OK);
    CHECK(fv_vault_get(vault, "before", &entry) == FV_OK);
    fv_entry_free(entry);
    entry = NULL;
    CHECK(fv_vault_get(vault, "from-child", &entry) == FV_NOT_FOUND);
    fv_vault_close(vault);

    /* Reopened: both of the parent's writes are there. */
    vault = NULL;
    CHECK(fv_vault_open_passphrase(path, U8("pw"), 2, opts, &vault) == FV_OK);
    CHECK(fv_vault_get(vault, "after", &entry) == FV_OK);
    fv_entry_free(entry);
    fv_vault_close(vault);
    fv_options_free(opts);
    printf("test_fork (C): %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
