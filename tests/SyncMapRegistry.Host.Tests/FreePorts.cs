using System.Net;
using System.Net.Sockets;

namespace SyncMapRegistry.Host.Tests;

/// <summary>Finds ports on 127.0.0.1 that nothing listens on, so runs never collide with other processes.</summary>
internal static class FreePorts
{
    private static readonly Lock s_lock = new();
    private static int s_next = 20_000 + (Environment.ProcessId % 500 * 40);

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
                if (s_next > 60_000)
                {
                    s_next = 20_000;
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
