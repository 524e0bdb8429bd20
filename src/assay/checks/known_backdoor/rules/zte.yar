// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule zte_root_zte521
{
    meta:
        name = "zte-root-zte521"
        cve = ""
        references = "https://github.com/jgamblin/Mirai-Source-Code/blob/master/mirai/bot/scanner.c"
        description = "ZTE router firmware with the fixed root telnet password 'Zte521' (one of the Mirai botnet's built-in credentials)"
        severity = "high"
    strings:
        $pw = "Zte521" ascii wide
    condition:
        $pw
}

rule zte_web_shell_cmd
{
    meta:
        name = "zte-web-shell-cmd"
        cve = "CVE-2014-2321"
        references = "https://nvd.nist.gov/vuln/detail/CVE-2014-2321 https://www.kb.cert.org/vuls/id/600724"
        description = "ZTE F460/F660 unauthenticated web_shell_cmd.gch page that runs shell commands"
        severity = "critical"
    strings:
        $gch = "web_shell_cmd.gch" ascii wide
    condition:
        $gch
}
