# A host module like the workstation plan's own (phase 0.1: /etc/nixos/modules/system/zram.nix and
# aggressive-ram-optimization.nix): four sysctls forced with lib.mkForce, the rest plain definitions.
{ lib, ... }:
{
  zramSwap = {
    enable = true;
    algorithm = "zstd";
    memoryPercent = 75;
    priority = 100;
  };
  boot.kernel.sysctl = {
    "vm.swappiness" = lib.mkForce 67;
    "vm.vfs_cache_pressure" = lib.mkForce 125;
    "vm.overcommit_memory" = 0;
    "vm.overcommit_ratio" = 50;
    "vm.dirty_ratio" = lib.mkForce 10;
    "vm.dirty_background_ratio" = lib.mkForce 5;
    "vm.panic_on_oom" = 0;
  };
}
