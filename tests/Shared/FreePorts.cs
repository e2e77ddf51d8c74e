using System.Net;
using System.Net.Sockets;

namespace SyncMapRegistry.Testing;

/// <summary>
/// Finds ports on 127.0.0.1 that nothing listens on, so runs never collide with other processes. One source file for
/// every test project that starts servers: each links it (<c>Compile Include="..\Shared\FreePorts.cs"</c>).
/// </summary>
internal static class FreePorts
{
    private static readonly Lock s_lock = new();
    // Below Linux's ephemeral range (32768 and up), where outgoing connections take ports at random; each test
    // process starts at its own offset.
    private const int First = 20_000;
    private const int Last = 32_000;
    private static int s_next = First + (Environment.ProcessId % 290 * 40);

    /// <summary>A free port that nothing will accept connections on (bound, then released).</summary>
    public static int Closed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The first of <paramref name="count"/> consecutive free ports.</summary>
    public static int Range(int count)
    {
        lock (s_lock)
        {
            while (true)
            {
                int first = s_next;
                s_next += count + 1;
                if (s_next + count > Last)
                {
                    s_next = First;
                }

                if (Enumerable.Range(first, count).All(IsFree))
                {
                    return first;
                }
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
