using System.Text;

namespace SyncMapRegistry.Host.Tests;

/// <summary>One span from an OTLP ExportTraceServiceRequest, with its scope and resource.</summary>
internal sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, string Scope, IReadOnlyDictionary<string, string> Resource);

/// <summary>
/// A minimal protobuf reader for the parts of OTLP the tests look at (opentelemetry/proto/trace/v1 and
/// common/v1): resource attributes, scope names, and span ids, parents and names.
/// </summary>
internal static class OtlpProto
{
    public static List<OtlpSpan> DecodeTraces(byte[] request)
    {
        var spans = new List<OtlpSpan>();
        var reader = new Reader(request);

        // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
        while (reader.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 2)
            {
                ReadResourceSpans(reader.Bytes(), spans);
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return spans;
    }

    private static void ReadResourceSpans(ReadOnlyMemory<byte> message, List<OtlpSpan> spans)
    {
        // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
        var resource = new Dictionary<string, string>();
        var scopes = new List<ReadOnlyMemory<byte>>();
        var reader = new Reader(message);
        while (reader.Next(out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    ReadAttributes(reader.Bytes(), 1, resource);
                    break;
                case (2, 2):
                    scopes.Add(reader.Bytes());
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        foreach (ReadOnlyMemory<byte> scopeSpans in scopes)
        {
            // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
            string scope = "";
            var raw = new List<ReadOnlyMemory<byte>>();
            var scopeReader = new Reader(scopeSpans);
            while (scopeReader.Next(out int field, out int wire))
            {
                switch (field, wire)
                {
                    case (1, 2):
                        scope = ReadString(scopeReader.Bytes(), 1);
                        break;
                    case (2, 2):
                        raw.Add(scopeReader.Bytes());
                        break;
                    default:
                        scopeReader.Skip(wire);
                        break;
                }
            }

            spans.AddRange(raw.Select(span => ReadSpan(span, scope, resource)));
        }
    }

    private static OtlpSpan ReadSpan(ReadOnlyMemory<byte> message, string scope, Dictionary<string, string> resource)
    {
        // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; ... }
        string traceId = "", spanId = "", parent = "", name = "";
        var reader = new Reader(message);
        while (reader.Next(out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    traceId = Convert.ToHexString(reader.Bytes().Span);
                    break;
                case (2, 2):
                    spanId = Convert.ToHexString(reader.Bytes().Span);
                    break;
                case (4, 2):
                    parent = Convert.ToHexString(reader.Bytes().Span);
                    break;
                case (5, 2):
                    name = Encoding.UTF8.GetString(reader.Bytes().Span);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new OtlpSpan(traceId, spanId, parent, name, scope, resource);
    }

    /// <summary>Reads the <c>repeated KeyValue</c> field <paramref name="attributesField"/>, keeping string values.</summary>
    private static void ReadAttributes(ReadOnlyMemory<byte> message, int attributesField, Dictionary<string, string> into)
    {
        var reader = new Reader(message);
        while (reader.Next(out int field, out int wire))
        {
            if (field != attributesField || wire != 2)
            {
                reader.Skip(wire);
                continue;
            }

            // KeyValue { string key = 1; AnyValue value = 2; }, AnyValue { string string_value = 1; ... }
            string key = "", value = "";
            var keyValue = new Reader(reader.Bytes());
            while (keyValue.Next(out int kvField, out int kvWire))
            {
                switch (kvField, kvWire)
                {
                    case (1, 2):
                        key = Encoding.UTF8.GetString(keyValue.Bytes().Span);
                        break;
                    case (2, 2):
                        value = ReadString(keyValue.Bytes(), 1);
                        break;
                    default:
                        keyValue.Skip(kvWire);
                        break;
                }
            }

            into[key] = value;
        }
    }

    private static string ReadString(ReadOnlyMemory<byte> message, int stringField)
    {
        var reader = new Reader(message);
        string value = "";
        while (reader.Next(out int field, out int wire))
        {
            if (field == stringField && wire == 2)
            {
                value = Encoding.UTF8.GetString(reader.Bytes().Span);
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return value;
    }

    private sealed class Reader(ReadOnlyMemory<byte> buffer)
    {
        private int _position;

        public bool Next(out int field, out int wire)
        {
            if (_position >= buffer.Length)
            {
                field = wire = 0;
                return false;
            }

            ulong tag = Varint();
            field = (int)(tag >> 3);
            wire = (int)(tag & 7);
            return true;
        }

        public ReadOnlyMemory<byte> Bytes()
        {
            int length = checked((int)Varint());
            ReadOnlyMemory<byte> bytes = buffer.Slice(_position, length);
            _position += length;
            return bytes;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0:
                    Varint();
                    break;
                case 1:
                    _position += 8;
                    break;
                case 2:
                    Bytes();
                    break;
                case 5:
                    _position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wire}.");
            }
        }

        private ulong Varint()
        {
            ulong value = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = buffer.Span[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }

            throw new InvalidDataException("Malformed varint.");
        }
    }
}
