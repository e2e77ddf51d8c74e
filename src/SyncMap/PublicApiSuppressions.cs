using System.Diagnostics.CodeAnalysis;

// RS0026 (PublicApiAnalyzers) flags two public overloads that both have optional parameters, because adding a
// parameter to either later breaks callers. SyncMap's constructors are the API that issue 2 fixed:
// (keyComparer, valueComparer = null) and (options, keyComparer = null, valueComparer = null). They are kept
// as they are; a later change to them must add a new overload, never a parameter. Note that
// `new SyncMap<TKey, TValue>(null)` is ambiguous between the two (CS0121): callers name the argument.
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Justification = "SyncMap's constructors are fixed by issue 2; see the comment above.",
    Scope = "member", Target = "~M:SyncMapRegistry.SyncMap`2.#ctor(System.Collections.Generic.IEqualityComparer{`0},System.Collections.Generic.IEqualityComparer{`1})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Justification = "SyncMap's constructors are fixed by issue 2; see the comment above.",
    Scope = "member", Target = "~M:SyncMapRegistry.SyncMap`2.#ctor(SyncMapRegistry.SyncMapOptions,System.Collections.Generic.IEqualityComparer{`0},System.Collections.Generic.IEqualityComparer{`1})")]
