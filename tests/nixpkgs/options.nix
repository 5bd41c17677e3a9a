# The option declarations the priority tests evaluate against, with the merge behaviour of current nixpkgs:
# used when $NIXPKGS is only a lib/ folder (a full checkout brings its own modules, see test_priorities.py).
#
# - boot.kernel.sysctl: nixos/modules/config/sysctl.nix (nixos-unstable, 2026): a freeform submodule whose values
#   merge with mergeOneOption after filterOverrides, so two definitions at the winning priority fail with
#   "defined multiple times", even when equal.
# - zramSwap: zram-options.nix.
{ lib, ... }:
let
  sysctlOption = lib.mkOptionType {
    name = "sysctl option value";
    check = val:
      let checkType = x: lib.isBool x || lib.isString x || lib.isInt x || x == null;
      in checkType val || (val._type or "" == "override" && checkType val.content);
    merge = loc: defs: lib.mergeOneOption loc (lib.filterOverrides defs);
  };
in
{
  options.boot.kernel.sysctl = lib.mkOption {
    type = lib.types.submodule { freeformType = lib.types.attrsOf sysctlOption; };
    default = { };
  };
  imports = [ ./zram-options.nix ];
}
