"""C sources of small programs that tests compile with the host and cross compilers."""

from __future__ import annotations

# A login that compares what it reads with a user name and a password (% (user, password)).
LOGIN_C = r"""
#include <stdio.h>
#include <string.h>
int main(void) {
    char user[64], pass[64];
    fputs("Login: ", stdout);
    if (!fgets(user, sizeof user, stdin)) return 1;
    fputs("Password: ", stdout);
    if (!fgets(pass, sizeof pass, stdin)) return 1;
    user[strcspn(user, "\n")] = 0;
    pass[strcspn(pass, "\n")] = 0;
    return !(strcmp(user, "%s") == 0 && strcmp(pass, "%s") == 0);
}
"""
