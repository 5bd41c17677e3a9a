# zramSwap declared as in nixpkgs' nixos/modules/config/zram.nix (nixos-unstable, 2026), types only: types.bool,
# a string (an enum of the kernel's algorithms upstream), types.int, types.int, all merged with mergeEqualOption,
# so two different plain definitions conflict. Importing the real zram.nix would pull in the rest of NixOS
# (swapDevices, systemd, kernel modules).
{ lib, ... }:
{
  options.zramSwap = {
    enable = lib.mkOption { type = lib.types.bool; default = false; };
    algorithm = lib.mkOption { type = lib.types.str; default = "zstd"; };
    memoryPercent = lib.mkOption { type = lib.types.int; default = 50; };
    priority = lib.mkOption { type = lib.types.int; default = 5; };
  };
}
