using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Tests;

public sealed class GrainPickerTests
{
    [Theory]
    [InlineData(0.7)]
    [InlineData(1.0)]
    [InlineData(1.2)]
    public void ZipfPicksEachOfTheTopRanksAsOftenAsZipfsLawSays(double exponent)
    {
        const int grains = 1000;
        const int draws = 400_000;
        GrainPicker picker = GrainPicker.For(new Popularity(exponent), grains);
        var random = new Random(12345);
        long[] counts = new long[grains];
        for (int i = 0; i < draws; i++)
        {
            counts[picker.Next(random)]++;
        }

        // P(rank k) = k^-s / sum over j of j^-s; grain k - 1 has rank k.
        double norm = Enumerable.Range(1, grains).Sum(k => Math.Pow(k, -exponent));
        for (int rank = 1; rank <= 20; rank++)
        {
            double p = Math.Pow(rank, -exponent) / norm;
            double expected = p * draws;
            double sigma = Math.Sqrt(draws * p * (1 - p));
            Assert.True(
                Math.Abs(counts[rank - 1] - expected) < 5 * sigma,
                $"s={exponent}: rank {rank} drawn {counts[rank - 1]} times, expected {expected:0} +- {sigma:0}");
        }

        // The tail too: the bottom half of the ranks takes its share.
        double tail = Enumerable.Range(grains / 2 + 1, grains / 2).Sum(k => Math.Pow(k, -exponent)) / norm;
        double tailSigma = Math.Sqrt(draws * tail * (1 - tail));
        Assert.InRange(counts.Skip(grains / 2).Sum(), (tail * draws) - (5 * tailSigma), (tail * draws) + (5 * tailSigma));
    }

    [Fact]
    public void ZipfStaysInRangeForOneGrainAndForMillions()
    {
        var random = new Random(7);
        GrainPicker one = GrainPicker.For(new Popularity(0.9), 1);
        GrainPicker many = GrainPicker.For(new Popularity(0.9), 10_000_000);
        for (int i = 0; i < 100_000; i++)
        {
            Assert.Equal(0, one.Next(random));
            Assert.InRange(many.Next(random), 0, 9_999_999);
        }
    }

    [Fact]
    public void UniformPicksEveryGrainAlike()
    {
        const int grains = 10;
        const int draws = 100_000;
        GrainPicker picker = GrainPicker.For(Popularity.Uniform, grains);
        var random = new Random(99);
        long[] counts = new long[grains];
        for (int i = 0; i < draws; i++)
        {
            counts[picker.Next(random)]++;
        }

        double sigma = Math.Sqrt(draws * 0.1 * 0.9);
        Assert.All(counts, c => Assert.InRange(c, (draws / grains) - (5 * sigma), (draws / grains) + (5 * sigma)));
    }
}
