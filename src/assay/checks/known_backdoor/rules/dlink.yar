// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule dlink_xmlset_roodkcableoj
{
    meta:
        name = "dlink-xmlset-roodkcableoj"
        cve = "CVE-2013-6026"
        references = "https://nvd.nist.gov/vuln/detail/CVE-2013-6026 https://www.devttys0.com/2013/10/reverse-engineering-a-d-link-backdoor/"
        description = "D-Link/Alpha Networks web server back door: the User-Agent 'xmlset_roodkcableoj28840ybtide' ('edit by 04882 joel backdoor' reversed) skips authentication"
        severity = "critical"
    strings:
        $full = "xmlset_roodkcableoj28840ybtide" ascii wide
        $f1 = "xmlset_r"
        $f2 = "roodkc"
        $f3 = "kcableoj"
        $f4 = "eoj2884"
        $f5 = "28840ybt"
        $f6 = "ybtide"
    condition:
        $full or 3 of ($f*)
}
