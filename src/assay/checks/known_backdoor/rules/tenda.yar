// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule tenda_w302r_mfg
{
    meta:
        name = "tenda-w302r-mfg"
        cve = ""
        references = "https://www.devttys0.com/2013/10/from-china-with-love/"
        description = "Tenda W302R/W330R (and Medialink) httpd MfgThread back door: UDP 7329 packets starting with 'w302r_mfg' run commands as root"
        severity = "critical"
    strings:
        $full = "w302r_mfg" ascii wide
        $w = "w302r" ascii wide
        $mfg = "_mfg" ascii wide
        $port0 = { A1 1C ?? (24|34) }
        $port1 = { (24|34) ?? 1C A1 }
        $port2 = { A1 1C ?? 3C }
        $port3 = { 3C ?? 1C A1 }
        $port4 = { A1 ?C 01 E3 }
        $port5 = { 41 F6 A1 4? }
        $port6 = { A1 1C 00 00 }
        $port7 = { 00 00 1C A1 }
        $port8 = { 1C A1 ?? (24|34) }
        $port9 = { (24|34) ?? A1 1C }
        $port10 = { 1C A1 ?? 3C }
        $port11 = { 3C ?? A1 1C }
        $port12 = { 1C ?1 0A E3 }
        $port13 = { 4A F2 1C 1? }
        $port14 = { 1C A1 00 00 }
        $port15 = { 00 00 A1 1C }
        $wimm_le_mips_le = { 30 32 ?? 3C [0-16] 77 33 ?? (34|35|36|37|24|25|26|27) }
        $wimm_le_mips_be = { 3C ?? 32 30 [0-16] (34|35|36|37|24|25|26|27) ?? 33 77 }
        $wimm_le_arm = { 77 ?3 03 E3 [0-16] 30 ?2 43 E3 }
        $wimm_le_thumb = { 43 F2 77 3? [0-16] C3 F2 30 2? }
        $wimm_le_a64 = { ?? 6E 86 52 [0-16] ?? 46 A6 72 }
        $wimm_le_ppc = { (3C|3D|3E|3F) ?? 32 30 [0-16] (60|61|62|63) ?? 33 77 }
        $wimm_be_mips_le = { 33 77 ?? 3C [0-16] 32 30 ?? (34|35|36|37|24|25|26|27) }
        $wimm_be_mips_be = { 3C ?? 77 33 [0-16] (34|35|36|37|24|25|26|27) ?? 30 32 }
        $wimm_be_arm = { 32 ?0 03 E3 [0-16] 33 ?7 47 E3 }
        $wimm_be_thumb = { 43 F2 32 0? [0-16] C7 F2 33 7? }
        $wimm_be_a64 = { ?? 06 86 52 [0-16] ?? E6 AE 72 }
        $wimm_be_ppc = { (3C|3D|3E|3F) ?? 77 33 [0-16] (60|61|62|63) ?? 30 32 }
    condition:
        $full or ($w and ($mfg or any of ($port*))) or (any of ($wimm_*) and any of ($port*))
}
