// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule tplink_start_art
{
    meta:
        name = "tplink-start-art"
        cve = ""
        references = "https://sekurak.pl/tp-link-httptftp-backdoor/"
        description = "TP-Link HTTP/TFTP back door: GET /userRpmNatDebugRpm26525557/start_art.html makes the router fetch and run nart.out from the requester over TFTP"
        severity = "critical"
    strings:
        $url = "NatDebugRpm26525557" ascii wide
        $art = "start_art.html" ascii wide
        $nart = "nart.out" ascii wide
    condition:
        $url or ($art and $nart)
}

rule tplink_tddp
{
    meta:
        name = "tplink-tddp-1040"
        cve = ""
        references = "https://mjg59.dreamwidth.org/51672.html https://github.com/softScheck/tplink-smartplug/tree/master/tddp-client"
        description = "TP-Link Device Debug Protocol daemon (tddp) on UDP 1040: version-1 commands need no authentication and can run code as root"
        severity = "high"
    strings:
        $tddp = "tddp" nocase ascii
        $port0 = { 10 04 ?? (24|34) }
        $port1 = { (24|34) ?? 04 10 }
        $port2 = { 10 04 ?? 3C }
        $port3 = { 3C ?? 04 10 }
        $port4 = { 10 ?4 00 E3 }
        $port5 = { 40 F2 10 4? }
        $port6 = { 10 04 00 00 }
        $port7 = { 00 00 04 10 }
        $port8 = { 04 10 ?? (24|34) }
        $port9 = { (24|34) ?? 10 04 }
        $port10 = { 04 10 ?? 3C }
        $port11 = { 3C ?? 10 04 }
        $port12 = { 04 ?0 01 E3 }
        $port13 = { 41 F2 04 0? }
        $port14 = { 04 10 00 00 }
        $port15 = { 00 00 10 04 }
    condition:
        uint32(0) == 0x464C457F and #tddp >= 2 and any of ($port*)
}
