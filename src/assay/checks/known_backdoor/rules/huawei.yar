// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule huawei_telecomadmin
{
    meta:
        name = "huawei-telecomadmin"
        cve = ""
        references = "https://github.com/ihebski/DefaultCreds-cheat-sheet https://github.com/threat9/routersploit/blob/master/routersploit/resources/wordlists/defaults.txt"
        description = "Huawei HG/EchoLife ONT operator super-user 'telecomadmin' with the fixed password 'admintelecom' or 'nE7jA%5m'"
        severity = "high"
    strings:
        $pw = "nE7jA%5m" ascii wide
        $user = "telecomadmin" ascii wide
        $pw2 = "admintelecom" ascii wide
    condition:
        $pw or ($user and $pw2)
}
