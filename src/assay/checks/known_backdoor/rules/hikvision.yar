// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule hikvision_auth_bypass
{
    meta:
        name = "hikvision-auth-ywrtaw46mtek"
        cve = "CVE-2017-7921"
        references = "https://nvd.nist.gov/vuln/detail/CVE-2017-7921 https://www.cisa.gov/news-events/ics-advisories/icsa-17-124-01"
        description = "Hikvision IP camera authentication bypass: the hard-coded token 'YWRtaW46MTEK' (base64 'admin:11') accepted as auth= parameter"
        severity = "critical"
    strings:
        $tok = "YWRtaW46MTEK" ascii wide
    condition:
        $tok
}
