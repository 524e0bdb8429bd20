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
        $magic_neg_le = { B3 B2 9C AC }
        $magic_neg_be = { AC 9C B2 B3 }
        $magic_nrev_le = { AD 9C B2 B2 }
        $magic_nrev_be = { B2 B2 9C AD }
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
        $k_mips_le0 = { 9C AC ?? 3C [0-16] B3 B2 ?? (34|35|36|37) }
        $k_mips_le1 = { 9D AC ?? 3C [0-16] B3 B2 ?? (24|25|26|27) }
        $k_mips_be0 = { 3C ?? AC 9C [0-16] (34|35|36|37) ?? B2 B3 }
        $k_mips_be1 = { 3C ?? AC 9D [0-16] (24|25|26|27) ?? B2 B3 }
        $k_arm = { B3 ?2 0B E3 [0-16] 9C ?C 4A E3 }
        $k_thumb = { 4B F2 B3 2? [0-16] CA F6 9C 4? }
        $k_a64 = { ?? 56 96 52 [0-16] ?? 93 B5 72 }
        $k_ppc = { (3C|3D|3E|3F) ?? AC 9C [0-16] (60|61|62|63) ?? B2 B3 }
        $l_mips_le0 = { B2 B2 ?? 3C [0-16] AD 9C ?? (34|35|36|37) }
        $l_mips_le1 = { B3 B2 ?? 3C [0-16] AD 9C ?? (24|25|26|27) }
        $l_mips_be0 = { 3C ?? B2 B2 [0-16] (34|35|36|37) ?? 9C AD }
        $l_mips_be1 = { 3C ?? B2 B3 [0-16] (24|25|26|27) ?? 9C AD }
        $l_arm = { AD ?C 09 E3 [0-16] B2 ?2 4B E3 }
        $l_thumb = { 49 F6 AD 4? [0-16] CB F2 B2 2? }
        $l_a64 = { ?? 95 93 52 [0-16] ?? 56 B6 72 }
        $l_ppc = { (3C|3D|3E|3F) ?? B2 B2 [0-16] (60|61|62|63) ?? 9C AD }
    condition:
        (any of ($i_*, $j_*, $k_*, $l_*)) or (uint32(0) == 0x464C457F and any of ($magic_*))
}
