# A small module system for the tests: enough of nixpkgs' lib.evalModules to prove how a generated module's options
# are wired, with the real Nix evaluator, where nixpkgs itself is not available (the nixpkgs tier runs the real one
# when NIXPKGS is set).
#
# What it keeps of lib/modules.nix:
#   * options declared with mkOption give their default at the option-default priority (1500);
#   * lib.mkIf is pushed down into attribute sets before its condition is read (pushDownProperties), so a module
#     may read its own options through `config` without infinite recursion;
#   * lib.mkMerge, lib.mkOverride (mkForce 50, plain 100, mkDefault 1000): the definitions of the highest priority
#     (lowest number) win; lists at that priority are concatenated; other values must be equal, or evaluation fails
#     with "defined multiple times" (mergeEqualOption);
#   * a value whose every definition is switched off by mkIf is absent, and so is an attribute set left empty.
# What it leaves out: option types (no checking), mkOrder, submodules, freeform checking, assertions.
#
# Arguments: modules (paths, functions or attribute sets), pkgs (a stub set of packages the modules refer to).
# Result: { config; options; } with functions replaced by the text "<function>" so that --json can print it.
{ modules, pkgs ? { } }:
let
  inherit (builtins) attrNames concatMap filter foldl' isAttrs isFunction isList length listToAttrs map head all any;

  typeOf = v: if isAttrs v then v._type or null else null;
  special = v: builtins.elem (typeOf v) [ "if" "merge" "override" "order" ];

  lib = rec {
    mkOption = o: o // { _type = "option"; };
    mkEnableOption = name: mkOption { default = false; description = "Whether to enable ${name}."; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkForce = mkOverride 50;
    mkDefault = mkOverride 1000;
    mkBefore = content: { _type = "order"; inherit content; };
    mkAfter = mkBefore;
    optionals = c: l: if c then l else [ ];
    optionalAttrs = c: a: if c then a else { };
    optional = c: v: if c then [ v ] else [ ];
    hasAttrByPath = path: set:
      if path == [ ] then true
      else isAttrs set && set ? ${head path} && hasAttrByPath (builtins.tail path) set.${head path};
    getAttrFromPath = path: set: foldl' (s: n: s.${n}) set path;
    concatStringsSep = builtins.concatStringsSep;
    types = {
      bool = "bool"; int = "int"; str = "str"; path = "path"; package = "package"; lines = "lines";
      listOf = t: "listOf"; attrsOf = t: "attrsOf"; nullOr = t: "nullOr"; enum = l: "enum";
      either = a: b: "either"; oneOf = l: "oneOf"; submodule = m: "submodule";
    };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
  };

  # every module as { options; config; }
  load = m:
    let
      value = if isFunction m then m { inherit config lib pkgs options; } else if isAttrs m then m else import m;
      called = if isFunction value then value { inherit config lib pkgs options; } else value;
    in
    if called ? options || called ? config || called ? imports
    then { options = called.options or { }; config = called.config or { }; imports = called.imports or [ ]; }
    else { options = { }; config = called; imports = [ ]; };

  collect = ms: concatMap (m: let l = load m; in [ l ] ++ collect l.imports) ms;
  loaded = collect modules;

  # -- options: the merged declarations, and their defaults as definitions
  mergeDecls = decls:
    if any (d: typeOf d == "option") decls then head (filter (d: typeOf d == "option") decls)
    else listToAttrs (map (n: { name = n; value = mergeDecls (concatMap (d: if d ? ${n} then [ d.${n} ] else [ ]) decls); })
      (builtins.attrNames (foldl' (a: d: a // d) { } decls)));
  options = mergeDecls (map (l: l.options) loaded);
  defaultsOf = opts:
    if typeOf opts == "option" then (if opts ? default then lib.mkOverride 1500 opts.default else { _type = "absent"; })
    else builtins.mapAttrs (n: defaultsOf) opts;

  # -- definitions: the children of a definition at attribute `n`, with mkIf / mkOverride pushed down
  keysOf = d:
    let t = typeOf d; in
    if t == "if" || t == "override" || t == "order" then keysOf d.content
    else if t == "merge" then concatMap keysOf d.contents
    else if isAttrs d && !(d ? _type) && !(isFunction d) then attrNames d
    else [ ];
  childrenOf = n: d:
    let t = typeOf d; in
    if t == "if" then map (c: lib.mkIf d.condition c) (childrenOf n d.content)
    else if t == "override" then map (c: lib.mkOverride d.priority c) (childrenOf n d.content)
    else if t == "order" then childrenOf n d.content
    else if t == "merge" then concatMap (childrenOf n) d.contents
    else if isAttrs d && d ? ${n} then [ d.${n} ]
    else [ ];
  isSet = d:
    let t = typeOf d; in
    if t == "if" || t == "override" || t == "order" then isSet d.content
    else if t == "merge" then all isSet d.contents
    else isAttrs d && !(d ? _type) && !(d ? outPath) && !(isFunction d);

  # a leaf definition resolved to { priority; value; } entries (conditions read here)
  resolve = prio: d:
    let t = typeOf d; in
    if t == "if" then (if d.condition then resolve prio d.content else [ ])
    else if t == "override" then resolve d.priority d.content
    else if t == "order" then resolve prio d.content
    else if t == "merge" then concatMap (resolve prio) d.contents
    else if t == "absent" then [ ]
    else [ { priority = prio; value = d; } ];

  absent = { _type = "absentValue"; };
  mergeLeaf = path: defs:
    let
      entries = concatMap (resolve 100) defs;
      best = foldl' (a: e: if e.priority < a then e.priority else a) 100000 entries;
      winners = map (e: e.value) (filter (e: e.priority == best) entries);
    in
    if entries == [ ] then absent
    else if all isList winners then builtins.concatLists winners
    else if all (v: v == head winners) winners then head winners
    else throw "The option `${builtins.concatStringsSep "." path}' is defined multiple times with different values.";

  mergeDefs = path: defs:
    if defs != [ ] && all isSet defs then
      let
        names = attrNames (listToAttrs (map (n: { name = n; value = null; }) (concatMap keysOf defs)));
        merged = map (n: { name = n; value = mergeDefs (path ++ [ n ]) (concatMap (childrenOf n) defs); }) names;
      in
      listToAttrs merged
    else mergeLeaf path defs;

  # what is left once the absent values and the attribute sets left empty are dropped (for the result only: the
  # fixpoint `config` keeps its names, which never depend on values, as in nixpkgs)
  clean = v:
    if isAttrs v && !(v ? _type) && !(v ? outPath) then
      let kept = builtins.mapAttrs (n: clean) v; in
      listToAttrs (filter (p: p.value != absent && p.value != { })
        (map (n: { name = n; value = kept.${n}; }) (attrNames kept)))
    else v;

  config = mergeDefs [ ] ([ (defaultsOf options) ] ++ map (l: l.config) loaded);

  # for --json: functions (overlays) become a text
  printable = v:
    if isFunction v then "<function>"
    else if isList v then map printable v
    else if isAttrs v && v ? outPath then "<derivation ${v.name or "?"}>"
    else if isAttrs v then builtins.mapAttrs (n: printable) v
    else v;
in
{
  config = printable (clean config);
  options = printable (let strip = o: if typeOf o == "option" then { default = printable (o.default or null); } else builtins.mapAttrs (n: strip) o; in strip options);
}
