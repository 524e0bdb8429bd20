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
        $port2 = { A1 ?C 01 E3 }
        $port3 = { 41 F6 A1 4? }
        $port4 = { A1 1C 00 00 }
        $port5 = { 00 00 1C A1 }
        $port6 = { 1C A1 ?? 34 }
        $port7 = { 34 ?? A1 1C }
        $port8 = { 1C ?1 0A E3 }
        $port9 = { 4A F2 1C 1? }
        $port10 = { 1C A1 00 00 }
        $port11 = { 00 00 A1 1C }
    condition:
        $full or ($w and ($mfg or any of ($port*)))
}
