// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule fortinet_fortios_ssh_backdoor
{
    meta:
        name = "fortinet-fgtabc11"
        cve = "CVE-2016-1909"
        references = "https://nvd.nist.gov/vuln/detail/CVE-2016-1909"
        description = "FortiOS 'Fortimanager_Access' SSH challenge/response back door keyed with 'FGTAbc11*xy+Qqz27'"
        severity = "critical"
    strings:
        $full = "FGTAbc11*xy+Qqz27" ascii wide
        $h1 = "FGTAbc11"
        $h2 = "xy+Qqz27"
    condition:
        $full or ($h1 and $h2)
}
