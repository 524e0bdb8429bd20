"""hardcoded-credential on real compiled programs (x86-64, MIPS32 LE, ARM, Thumb) and scripts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assay.checks.base import CheckContext
from assay.checks.hardcoded_credential.check import CHECK, _password_like
from assay.model import Finding

TARGETS = ["x86_64", "mipsel", "arm", "thumb", "thumb2", "aarch64", "mips"]

STRCMP_PAIR = r"""
#include <stdio.h>
#include <string.h>
static int check_login(const char *user, const char *pass) {
    return strcmp(user, "fieldtech") == 0 && strcmp(pass, "Zx9!kLm2q") == 0;
}
int main(int argc, char **argv) {
    char user[64], pass[64];
    if (argc > 1 && strcmp(argv[1], "--help") == 0) { puts("usage"); return 0; }
    fputs("Login: ", stdout);
    if (!fgets(user, sizeof user, stdin)) return 1;
    user[strcspn(user, "\n")] = 0;
    fputs("Password: ", stdout);
    if (!fgets(pass, sizeof pass, stdin)) return 1;
    pass[strcspn(pass, "\n")] = 0;
    if (check_login(user, pass)) { puts("welcome"); return 0; }
    puts("Login incorrect");
    return 1;
}
"""

# The password never appears whole in .rodata: two fragments are joined at run time.
COMPOSED = r"""
#include <stdio.h>
#include <string.h>
int main(void) {
    char user[64], pass[64], secret[32];
    fputs("Username: ", stdout);
    if (!fgets(user, sizeof user, stdin)) return 1;
    user[strcspn(user, "\n")] = 0;
    fputs("Password: ", stdout);
    if (!fgets(pass, sizeof pass, stdin)) return 1;
    pass[strcspn(pass, "\n")] = 0;
    strcpy(secret, "Qw7#");
    strcat(secret, "pLx9z");
    if (strcmp(user, "svcadmin") == 0 && strcmp(pass, secret) == 0) { puts("ok"); return 0; }
    return 1;
}
"""

# memcmp with a constant is inlined into integer compares: no strcmp call, no string to grep.
INLINE = r"""
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    char user[64] = {0}, pass[64] = {0};
    write(1, "login: ", 7);
    if (read(0, user, sizeof user - 1) <= 0) return 1;
    write(1, "Password: ", 10);
    if (read(0, pass, sizeof pass - 1) <= 0) return 1;
    if (memcmp(user, "operator", 9) == 0 && memcmp(pass, "Kq4$vR8!m", 10) == 0) { puts("ok"); return 0; }
    return 1;
}
"""

# Compares in a password-handling program that are options, versions, hash prefixes, key types.
KEYWORDS = r"""
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    char line[128];
    fputs("Password: ", stdout);
    if (!fgets(line, sizeof line, stdin)) return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--password-file") == 0) puts("file");
        else if (strcmp(argv[i], "ssh-ed25519") == 0) puts("ed");
        else if (strcmp(argv[i], "SSH-2.0") == 0) puts("v2");
        else if (strncmp(argv[i], "$apr1$", 6) == 0) puts("apr");
        else if (strcmp(argv[i], "x86_64") == 0) puts("arch");
        else if (strcmp(argv[i], "kex-strict-c-v00@openssh.com") == 0) puts("kex");
        else if (strcmp(argv[i], "verbose") == 0) puts("v");
    }
    return strcmp(line, "%s:%d") == 0;
}
"""


def _run(ctx: CheckContext) -> list[Finding]:
    return list(CHECK.run(ctx))


@pytest.mark.parametrize("target", TARGETS)
def test_strcmp_pair_in_stripped_binary(target: str, compile_c: Callable[[str, str], bytes], context) -> None:
    prog = compile_c(STRCMP_PAIR, target)
    found = _run(context({"/usr/sbin/cli": prog}))
    assert len(found) == 1, [f.title for f in found]
    f = found[0]
    assert f.category == "hardcoded-credential" and f.path == "/usr/sbin/cli"
    assert f.details["user"] == "fieldtech" and f.details["password"] == "Zx9!kLm2q"
    assert int(f.details["function"], 16) > 0
    # each literal's evidence offset points at its bytes in the file
    for ev in f.evidence:
        lit = ev.details["literal"].encode()
        assert ev.offset is not None
        assert prog[ev.offset : ev.offset + len(lit)] == lit
        assert ev.sha256 and ev.path == "/usr/sbin/cli"


@pytest.mark.parametrize("target", TARGETS)
def test_password_joined_from_two_fragments(target: str, compile_c, context) -> None:
    prog = compile_c(COMPOSED, target)
    assert b"Qw7#pLx9z" not in prog
    found = _run(context({"/usr/bin/mgmt": prog}))
    assert [(f.details["user"], f.details["password"]) for f in found] == [("svcadmin", "Qw7#pLx9z")]


@pytest.mark.parametrize("target", TARGETS)
def test_inlined_memcmp_integer_compares(target: str, compile_c, context) -> None:
    prog = compile_c(INLINE, target)
    found = _run(context({"/usr/sbin/telnetd-vendor": prog}))
    assert [(f.details["user"], f.details["password"]) for f in found] == [("operator", "Kq4$vR8!m")]
    secret = [lit for lit in found[0].details["literals"] if lit["role"] == "password"][0]
    assert secret["how"] in ("inline", "stack", "rodata")


@pytest.mark.parametrize("target", ["x86_64", "mipsel", "aarch64", "mips"])
def test_keywords_versions_and_options_are_not_credentials(target: str, compile_c, context) -> None:
    assert _run(context({"/usr/bin/tool": compile_c(KEYWORDS, target)})) == []


def test_no_login_context_no_finding(compile_c, context) -> None:
    src = (
        STRCMP_PAIR.replace("Login: ", "Name? ")
        .replace("Password: ", "Next? ")
        .replace("Login incorrect", "bad")
    )
    assert _run(context({"/usr/bin/quiz": compile_c(src, "x86_64")})) == []


SCRIPTS = {
    "/www/cgi-bin/service.cgi": (
        "#!/bin/sh\n"
        "user=$(echo \"$QUERY_STRING\" | sed -n 's/.*user=\\([^&]*\\).*/\\1/p')\n"
        "pass=$(echo \"$QUERY_STRING\" | sed -n 's/.*pass=\\([^&]*\\).*/\\1/p')\n"
        'if [ "$user" = "support" ] && [ "$pass" = "s3rv1ce#77" ]; then\n  cat /proc/meminfo\nfi\n',
        ("support", "s3rv1ce#77"),
    ),
    "/usr/sbin/debug.sh": (
        '#!/bin/sh\nif [ "$PASSWORD" == "xyz" ]; then\n  exec /bin/sh\nfi\n',
        (None, "xyz"),
    ),
    "/www/cgi-bin/diag.cgi": (
        '#!/bin/sh\ncase "$QUERY_STRING" in\n  *pass=Gh0st99*) /bin/sh -c "$CMD" ;;\nesac\n',
        (None, "Gh0st99"),
    ),
    "/usr/lib/lua/luci/auth.lua": (
        'local user = http.formvalue("username")\nlocal pass = http.formvalue("password")\n'
        'if user == "maint" and pass == "M@int2020" then\n  grant()\nend\n',
        ("maint", "M@int2020"),
    ),
    "/www/login.php": (
        "<?php\nif ($_POST['password'] === 'Adm1n!2019') { $ok = 1; }\n?>\n",
        (None, "Adm1n!2019"),
    ),
}


@pytest.mark.parametrize("path", sorted(SCRIPTS))
def test_scripts_comparing_input_with_literals(path: str, context) -> None:
    text, (user, password) = SCRIPTS[path]
    found = _run(context({path: text}))
    assert [(f.path, f.details["user"], f.details["password"]) for f in found] == [(path, user, password)]
    data = text.encode()
    ev = found[0].evidence[-1]
    assert ev.offset is not None and ev.length is not None
    assert data[ev.offset : ev.offset + ev.length].decode() == password
    assert ev.line is not None and ev.line >= 2


def test_scripts_without_hardcoded_secrets(context) -> None:
    files = {
        "/etc/init.d/passwd-check": (
            '#!/bin/sh\n[ "$password" = "" ] && exit 1\n[ "$password" = "$confirm" ] || exit 1\n'
            '[ "$auth" = "psk2" ] && echo wpa\nif [ "$PASSWORD_SET" = "yes" ]; then :; fi\n'
        ),
        "/www/cgi-bin/login.cgi": (
            "#!/bin/sh\nuser=$(echo \"$QUERY_STRING\" | sed -n 's/.*user=\\([^&]*\\).*/\\1/p')\n"
            'hash=$(grep "^$user:" /etc/webpasswd | cut -d: -f2)\n[ "$hash" = "$(echo -n "$pass" | md5sum)" ]\n'
        ),
        # a shell script that carries PHP (D-Link's templates): an assignment, not a comparison
        "/etc/scripts/wps/wps.php": (
            '#!/bin/sh\n<?\n$pin = query($p."/media/wps/enrollee/pin");\n$password = get("x", $p."/key");\n?>\n'
        ),
    }
    assert _run(context(files)) == []


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("Zx9!kLm2q", True),
        ("r00t@dm1n", True),
        ("Tech@2021!", True),
        ("admin123x", True),
        ("version12", False),  # a word with a numeric suffix: too weak a signal on its own
        ("--help", False),
        ("ssh-ed25519", False),
        ("SSH-1.99-", False),
        ("$apr1$", False),
        ("option6:", False),
        ("_BHRfS_M", False),
        ("sk-ecdsa-sha2-nistp256@openssh.com", False),
        ("/etc/passwd", False),
        ("%s:%d", False),
        ("#HttpOnly_", False),  # a cookie-file marker and a prefix, as libcurl compares them
        ("X-Auth_", False),
    ],
)
def test_password_likeness(literal: str, expected: bool) -> None:
    assert _password_like(literal) is expected


def _big_program() -> str:
    """Over the small-program size, with one login function of a few hundred option compares."""
    options = "\n".join(
        f'        else if (strcmp(argv[i], "--opt{n}") == 0) sink += pad[{n}] + printf("option {n}\\n");'
        for n in range(160)
    )
    return (
        r"""
#include <stdio.h>
#include <string.h>
const char pad[700000] = {1};  /* data: pushes the file past the small-program limit */
volatile int sink;
int main(int argc, char **argv) {
    char user[64], pass[64], secret[32];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) puts("usage");
"""
        + options
        + r"""
    }
    fputs("Username: ", stdout);
    if (!fgets(user, sizeof user, stdin)) return 1;
    user[strcspn(user, "\n")] = 0;
    fputs("Password: ", stdout);
    if (!fgets(pass, sizeof pass, stdin)) return 1;
    pass[strcspn(pass, "\n")] = 0;
    strcpy(secret, "Qw7#");
    strcat(secret, "pLx9z");
    if (strcmp(user, "svcadmin") == 0 && strcmp(pass, secret) == 0) { puts("ok"); return 0; }
    if (strcmp(pass, "Tech@2021!") == 0) { puts("maintenance"); return 0; }
    return 1;
}
"""
    )


@pytest.mark.parametrize("target", ["x86_64", "mipsel", "arm"])
def test_huge_function_of_a_big_program_is_walked_around_its_compares(
    target: str, compile_c, context
) -> None:
    from assay.analysis.binary import function_bounds, load_elf
    from assay.checks.hardcoded_credential import check

    prog = compile_c(_big_program(), target)
    b = load_elf(prog)
    assert b is not None and len(prog) > check._SMALL_ELF
    assert max(end - start for start, end, _s in function_bounds(b)) > check._BIG_FUNCTION
    found = _run(context({"/usr/sbin/mgmtd": prog}))
    pairs = [(f.details["user"], f.details["password"]) for f in found]
    assert ("svcadmin", "Qw7#pLx9z") in pairs
    assert any(password == "Tech@2021!" for _user, password in pairs)
    assert not any(password.startswith("--opt") for _user, password in pairs)


# What a web server compares in a function that also handles login fields: the product model
# from a getter, protocol tokens and option values; none of it is a credential.
WEB_NOISE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) const char *model(void) { return getenv("MODEL"); }
int main(int argc, char **argv) {
    char line[128];
    const char *proto = getenv("PROTO");
    fputs("Username: ", stdout);
    if (!fgets(line, sizeof line, stdin)) return 1;
    if (proto && strcmp(proto, "StaticPPTP") == 0 && strcmp(model(), "XRT350N") == 0) puts("pptp");
    if (argc > 1 && strcmp(argv[1], "FirmwareUpload") == 0) puts("upload");
    if (argc > 2 && strncasecmp(argv[2], "100-Continue", 12) == 0) puts("continue");
    if (argc > 3 && strcmp(argv[3], "Keep-Alive") == 0) puts("keep");
    fputs("Password: ", stdout);
    return 0;
}
"""

# A protocol handler that logs a user name and dispatches on packed parameter descriptors.
DESCRIPTORS = r"""
#include <stdio.h>
#include <string.h>
int handle(const char *user, int uid, const char *param, const char *data) {
    fprintf(stderr, "  Username of UID %d is %s\n", uid, user);
    if (strcmp(param, "QQWb73WrLh") == 0 && strcmp(data, "WB21BWDWWDDDDDDDzzzD") == 0) return 1;
    if (strcmp(param, "zWrLh") == 0) return 2;
    return 0;
}
int main(int argc, char **argv) {
    return argc > 4 ? handle(argv[1], argc, argv[2], argv[3]) : 0;
}
"""

# A login prompt next to a compare against table bytes: runs and few distinct characters.
TABLE = r"""
#include <stdio.h>
#include <string.h>
int main(void) {
    char line[128];
    fputs("login: ", stdout);
    if (!fgets(line, sizeof line, stdin)) return 1;
    if (strcmp(line, "B21BzzzWDDzzDDWWzWzDWb21W") == 0) puts("a");
    if (strcmp(line, "Kx7qqqqZ9") == 0) puts("b");
    return 0;
}
"""


@pytest.mark.parametrize("source", [WEB_NOISE, DESCRIPTORS, TABLE], ids=["web", "descriptors", "table"])
@pytest.mark.parametrize("target", ["x86_64", "mipsel"])
def test_models_tokens_descriptors_and_tables_are_not_credentials(
    source: str, target: str, compile_c, context
) -> None:
    prog = compile_c(source, target)
    assert _run(context({"/usr/sbin/httpd": prog})) == []


def test_a_password_among_the_noise_is_still_found(compile_c, context) -> None:
    src = TABLE.replace('"Kx7qqqqZ9"', '"Kx7q!qZ9"')
    found = _run(context({"/usr/sbin/httpd": compile_c(src, "mipsel")}))
    assert [f.details["password"] for f in found] == ["Kx7q!qZ9"]


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("WRT350N", False),
        ("DIR615", False),
        ("ADMIN1234", True),  # five capitals: a word, not a model prefix
        ("100-Continue", False),
        ("Primary:Kerberos-Newer-Keys", False),  # Samba's supplemental credential names
        ("Primary:Kerberos", False),
        ("root:Zte521", True),
        ("Keep-Alive", False),
        ("Admin-2020", True),  # a word then a number: a password shape, not a protocol token
        ("Root_2019", True),
        ("WB21BWDWWDDDDDDDzzzD", False),
        ("B21BzzzWDDzzDDWWzWzDWb21W", False),
        ("Pa55word!!", True),
        ("sup3rUs3r!", True),
    ],
)
def test_password_likeness_of_models_tokens_and_tables(literal: str, expected: bool) -> None:
    assert _password_like(literal) is expected


# An option value compared next to the secret is not its user; a secret checked twice is one finding.
OPTION_AND_REPEAT = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int check(const char *mode, const char *pass, int n) {
    if (mode && strcmp(mode, "enabled") == 0 && strcmp(pass, "Zq8!rT5m") == 0) return 1;
    if (n > 2 && strcmp(pass, "Zq8!rT5m") == 0) return 2;
    return 0;
}
int main(int argc, char **argv) {
    char line[128];
    fputs("Password: ", stdout);
    if (!fgets(line, sizeof line, stdin)) return 1;
    line[strcspn(line, "\n")] = 0;
    return check(getenv("MODE"), line, argc);
}
"""


@pytest.mark.parametrize("target", ["x86_64", "mipsel"])
def test_option_value_is_no_user_and_a_repeated_check_is_one_finding(target: str, compile_c, context) -> None:
    found = _run(context({"/usr/sbin/cfgd": compile_c(OPTION_AND_REPEAT, target)}))
    assert [(f.details["user"], f.details["password"]) for f in found] == [(None, "Zq8!rT5m")]


def test_a_kept_result_gives_the_same_findings_without_analysing_again(
    compile_c, context, tmp_path, monkeypatch
) -> None:
    import dataclasses

    from assay.checks.cache import ResultCache
    from assay.checks.hardcoded_credential import check as hcc

    files = {
        "/usr/sbin/cli": compile_c(STRCMP_PAIR, "x86_64"),
        "/usr/bin/cli2": compile_c(COMPOSED, "x86_64"),
    }
    ctx = context(files)
    plain = _run(ctx)
    assert len(plain) == 2
    cold = hcc.split(dataclasses.replace(ctx, memo={}, results=ResultCache(tmp_path / "c.sqlite")))
    kept = _run(dataclasses.replace(ctx, memo={}, results=ResultCache(tmp_path / "c.sqlite")))
    assert [f.to_dict() for f in kept] == [f.to_dict() for f in plain]
    # a binary whose result is kept weighs next to nothing when the work is shared out
    warm = hcc.split(dataclasses.replace(ctx, memo={}, results=ResultCache(tmp_path / "c.sqlite")))
    assert all(w > hcc._LOOKUP_SECONDS for w, _p in cold)
    assert all(w == hcc._LOOKUP_SECONDS for w, _p in warm)

    def no_analysis(*_args: object) -> None:
        raise AssertionError("analysed again")

    monkeypatch.setattr(hcc, "_binary_results", no_analysis)
    again = _run(dataclasses.replace(ctx, memo={}, results=ResultCache(tmp_path / "c.sqlite")))
    assert [f.to_dict() for f in again] == [f.to_dict() for f in plain]


NEIGHBOURS_C = r"""
#include <stdio.h>
__attribute__((noinline)) void status(void) { puts("Unrelated status line"); }
__attribute__((noinline)) void ask(void) { puts("Password:"); }
int main(void) { status(); ask(); return 0; }
"""


@pytest.mark.parametrize("target", ["arm", "thumb"])
def test_a_string_next_to_a_prompt_does_not_pass_for_it(
    target: str, compile_c: Callable[[str, str], bytes]
) -> None:
    # PIC code loads (string - pc) from a pool and adds pc a few instructions on: only that add
    # may place the load, or every string a few dozen bytes from a prompt would pass for it.
    from assay.analysis.binary import load_elf, referencing_functions, strings_in

    b = load_elf(compile_c(NEIGHBOURS_C, target))
    assert b is not None
    texts = {s.text: s for s in strings_in(b, [s.name for s in b.sections if s.name.startswith(".rodata")])}
    prompt, other = texts[b"Password:"], texts[b"Unrelated status line"]
    assert abs(prompt.vaddr - other.vaddr) < 48  # neighbours in .rodata
    asking, telling = referencing_functions(b, [prompt]), referencing_functions(b, [other])
    assert len(asking) == 1 and len(telling) == 1 and not asking & telling


# A configuration parser: its key is compared against many option names, some next to password
# options. Option names shaped like identifiers are keywords there, not credentials.
DISPATCHER = r"""
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) int set(const char *key, const char *value) {
    if (strcmp(key, "sae_password") == 0) return puts(value);
    else if (strcmp(key, "wpa_passphrase") == 0) return puts(value) + 1;
    else if (strcmp(key, "country_code") == 0) return 2;
    else if (strcmp(key, "ieee80211w") == 0) return 3;
    else if (strcmp(key, "use_sta_nsts") == 0) return 4;
    else if (strcmp(key, "ieee80211ax") == 0) return 5;
    else if (strcmp(key, "no-touch-required") == 0) return 6;
    else if (strcmp(key, "permit-X11-forwarding") == 0) return 7;
    else if (strcmp(key, "skip_inactivity_poll") == 0) return 8;
    else if (strcmp(key, "ieee8021x") == 0) return 9;
    else if (strcmp(key, "Realm") == 0) return 11;
    else if (strcmp(key, "Error404File") == 0) return 12;%s
    return 0;
}
int main(void) {
    char k[64], v[64];
    while (scanf("%%63s %%63s", k, v) == 2) set(k, v);
    return 0;
}
"""


@pytest.mark.parametrize("target", ["x86_64", "mipsel", "aarch64"])
def test_option_names_of_a_configuration_parser_are_not_credentials(target: str, compile_c, context) -> None:
    prog = compile_c(DISPATCHER % "", target)
    assert _run(context({"/usr/sbin/hostapd": prog})) == []


@pytest.mark.parametrize("target", ["x86_64", "mipsel", "aarch64"])
def test_a_secret_among_option_names_is_still_found(target: str, compile_c, context) -> None:
    hidden = '\n    else if (strcmp(key, "Kq4$vR8!m") == 0) return 10;\n    else if (strcmp(key, "Zte521") == 0) return 13;'
    found = _run(context({"/usr/sbin/hostapd": compile_c(DISPATCHER % hidden, target)}))
    assert sorted(f.details["password"] for f in found) == ["Kq4$vR8!m", "Zte521"]
