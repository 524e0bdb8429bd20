// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule netgear_telnetenable
{
    meta:
        name = "netgear-telnetenable"
        cve = "CVE-2026-24714"
        references = "https://nvd.nist.gov/vuln/detail/CVE-2026-24714 https://openwrt.org/toh/netgear/telnet.console"
        description = "Netgear telnetenabled: a magic packet encrypted with the Blowfish key 'AMBIT_TELNET_ENABLE+' starts an unauthenticated telnet console"
        severity = "high"
    strings:
        $key = "AMBIT_TELNET_ENABLE+" ascii wide
        $k1 = "AMBIT_TELNET"
        $k2 = "TELNET_ENABLE+"
    condition:
        $key or ($k1 and $k2)
}
