using System.Runtime.CompilerServices;

// As in the BCL: no zeroing of locals on entry. The read path inlines TryGetValue into its caller's loop, and the
// out locals of its cold calls would otherwise be zeroed on every lookup (two stores per read hit, seen with
// DOTNET_JitDisasm). C# definite assignment still forbids reading a local before it is written.
[module: SkipLocalsInit]
