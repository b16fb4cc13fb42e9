// The pictures must not change under a refactor: scripts/golden.sh runs 35 small runs
// that between them touch every backend, precision, loss scale, preset, optimizer,
// stage, colour mode, mask and checkpoint, and compares the SHA-256 of each picture,
// log and checkpoint with tests/golden/hashes.txt, recorded before issue #12's
// redesign (the oneDNN runs' re-recorded when issue #11 moved their Gram matrices to
// matmul primitives, which sum in another order). The bits depend on the CPU and the kernel libraries: on another machine
// (or a sanitizer build, whose binary differs) nothing is compared, and the test says so.
#include "testlib.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_pictures_unchanged(void) {
    nst_test_program t;
    if (nst_test_program_init(&t, "nst_golden")) { CHECK(0); return; }
    const char *build = getenv("NST_BUILD");
    if (build && strcmp(build, "build")) {
        printf("     (a %s build: not compared; the hashes are the plain build's)\n", build);
        nst_test_program_done(&t);
        return;
    }
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "NST=%s NST_SHARED=%s scripts/golden.sh check tests/golden/hashes.txt", t.nst,
             nst_test_shared());
    int rc = nst_test_shell(cmd, t.tmp, out, sizeof out);
    if (rc == 77) printf("     (%s)\n", strtok(out, "\n"));
    else CHECKF(rc == 0, "exit %d:\n%s", rc, out);
    nst_test_program_done(&t);
}

// The check itself can fail: one hash changed is reported (two runs made, not 35).
static void test_a_changed_hash_is_found(void) {
    nst_test_program t;
    if (nst_test_program_init(&t, "nst_golden_bad")) { CHECK(0); return; }
    const char *build = getenv("NST_BUILD");
    if (build && strcmp(build, "build")) { nst_test_program_done(&t); return; }
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "sed '0,/^default picture /s/^default picture ./default picture x/' "
             "tests/golden/hashes.txt > %s/bad.txt && GOLDEN_ONLY='default blas' NST=%s NST_SHARED=%s "
             "scripts/golden.sh check %s/bad.txt",
             t.tmp, t.nst, nst_test_shared(), t.tmp);
    int rc = nst_test_shell(cmd, t.tmp, out, sizeof out);
    if (rc != 77) CHECKF(rc == 1 && strstr(out, "was: default picture x"), "exit %d:\n%s", rc, out);
    nst_test_program_done(&t);
}

int main(void) {
    TEST(test_pictures_unchanged);
    TEST(test_a_changed_hash_is_found);
    return nst_test_summary();
}
