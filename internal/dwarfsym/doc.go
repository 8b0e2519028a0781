// Package dwarfsym answers "which function, file:line and inlined call chain is at this
// address?" for one module's DWARF debug information.
//
// Scope: addresses are module link-time addresses (the caller subtracts the load bias).
// An [Index] is built once per module: it scans the unit headers of .debug_info, reads only
// the first DIE of each compilation or partial unit and its address ranges
// (DW_AT_low_pc/DW_AT_high_pc, DW_AT_ranges through .debug_ranges (DWARF 2-4) or
// .debug_rnglists (DWARF 5)) and, for units whose DIE gives no ranges, .debug_aranges.
// A unit's DIE tree and line table are decoded only when an address inside it is looked
// up, and decoded units live in a cache bounded by an approximate byte budget.
//
// debug/dwarf is only shown the abbreviation tables a question needs (views.go): its New
// parses every unit's table up front, so the Index hands it a shadow .debug_abbrev with
// the tables of the units decoded so far (and of the units their DW_FORM_ref_addr
// references land in), each at its real offset, and zeros (empty tables) elsewhere.
// [Index.Data] gives other readers (variables, types) such a view; [Index.AllData] one of
// every unit, for scans.
//
// Lookup returns frames innermost first: each DW_TAG_inlined_subroutine containing the
// address becomes a frame of its own (Inlined true), the last frame is the concrete
// DW_TAG_subprogram. The innermost frame's file:line comes from the unit's line table (the
// row with the greatest address <= pc in the sequence that contains pc); each outer
// frame's file:line is the DW_AT_call_file/DW_AT_call_line of the frame inside it. This is
// the layout of `addr2line -f -i` and of gdb's inline frames.
//
// Names: DW_AT_name and DW_AT_linkage_name (or DW_AT_MIPS_linkage_name) are searched along
// DW_AT_abstract_origin and DW_AT_specification chains (at most 16 links, cycles stop
// there). A linkage name is demangled (Itanium C++ and Rust, with
// github.com/ianlancetaylor/demangle); the raw name is kept in Frame.LinkageName.
//
// Limits: DWARF versions 2-5 as decoded by the standard library's debug/dwarf (DW_FORM_strx,
// addrx, rnglistx, line_strp, implicit_const included). Not supported: split DWARF
// (.dwo/.dwp: skeleton units give no functions), dwz alternate files
// (DW_FORM_GNU_strp_alt / GNU_ref_alt: such names come back empty), DW_TAG_imported_unit is
// not followed for functions (DIEs in partial units are reached through references, and a
// partial unit with its own ranges is indexed like a compilation unit), relocatable objects
// (ET_REL: relocations are not applied, [NewFromELF] refuses them), .debug_types.
//
// Bounds on hostile input: each section at most Options.MaxSectionSize bytes, DIE nesting at
// most 256 levels and at most 8 Mi DIEs per unit, at most 16 Mi line rows per unit, 16
// reference hops per name, and a unit's DIE walk never leaves the byte range its header
// declares. Corrupt input yields an error (*FormatError or a wrapped debug/dwarf
// DecodeError), never a panic; this package uses no recover.
//
// Sources: DWARF Debugging Information Format Version 5 (dwarfstd.org, 2017), sections 2.17
// (code addresses and ranges), 3.1 (unit entries), 3.3.8 (inlined subroutines), 6.1.2
// (.debug_aranges), 6.2 (line number information), 7.5.1 (unit headers); DWARF 4 section
// 7.5.1.1 for the version 2-4 header layout.
package dwarfsym
