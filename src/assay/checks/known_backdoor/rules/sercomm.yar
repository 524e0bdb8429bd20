// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule sercomm_tcp32764
{
    meta:
        name = "sercomm-tcp32764"
        cve = "CVE-2014-0659"
        references = "https://github.com/elvanderb/TCP-32764 https://nvd.nist.gov/vuln/detail/CVE-2014-0659"
        description = "Sercomm TCP/32764 configuration back door (Linksys, Netgear, Cisco, Diamond and other OEMs): the 'ScMM'/'MMcS' (0x53634D4D) request magic"
        severity = "critical"
    strings:
        $magic_be = "ScMM"
        $magic_le = "MMcS"
        $i_mips_le = { 63 53 ?? 3C [0-16] 4D 4D ?? (34|35|36|37|24|25|26|27) }
        $i_mips_be = { 3C ?? 53 63 [0-16] (34|35|36|37|24|25|26|27) ?? 4D 4D }
        $i_arm = { 4D ?D 04 E3 [0-16] 63 ?3 45 E3 }
        $i_thumb = { 44 F6 4D 5? [0-16] C5 F2 63 3? }
        $i_a64 = { ?? A9 89 52 [0-16] ?? 6C AA 72 }
        $i_ppc = { (3C|3D|3E|3F) ?? 53 63 [0-16] (60|61|62|63) ?? 4D 4D }
        $j_mips_le = { 4D 4D ?? 3C [0-16] 53 63 ?? (34|35|36|37|24|25|26|27) }
        $j_mips_be = { 3C ?? 4D 4D [0-16] (34|35|36|37|24|25|26|27) ?? 63 53 }
        $j_arm = { 53 ?3 06 E3 [0-16] 4D ?D 44 E3 }
        $j_thumb = { 46 F2 53 3? [0-16] C4 F6 4D 5? }
        $j_a64 = { ?? 6A 8C 52 [0-16] ?? A9 A9 72 }
        $j_ppc = { (3C|3D|3E|3F) ?? 4D 4D [0-16] (60|61|62|63) ?? 63 53 }
    condition:
        (any of ($i_*, $j_*)) or (uint32(0) == 0x464C457F and any of ($magic_*))
}
