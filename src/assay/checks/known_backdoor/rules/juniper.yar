// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule juniper_screenos_auth_backdoor
{
    meta:
        name = "juniper-screenos-authbypass"
        cve = "CVE-2015-7755"
        references = "https://nvd.nist.gov/vuln/detail/CVE-2015-7755 https://www.rapid7.com/blog/post/2015/12/20/cve-2015-7755-juniper-screenos-authentication-backdoor/"
        description = "Juniper ScreenOS SSH/telnet authentication back door: the master password formatted like a debug string"
        severity = "critical"
    strings:
        $pw = "<<< %s(un='%s') = %u" ascii wide
    condition:
        $pw
}
