namespace SyncMapRegistry.Host.Workload;

/// <summary>Picks the grain of each call, by <see cref="Popularity"/>. Thread-safe: each caller brings its own <see cref="Random"/>.</summary>
internal abstract class GrainPicker
{
    /// <summary>The picker for <paramref name="popularity"/> over grains 0 to <paramref name="grains"/> - 1.</summary>
    public static GrainPicker For(Popularity popularity, int grains) =>
        popularity.ZipfExponent is { } exponent ? new Zipf(grains, exponent) : new Uniform(grains);

    /// <summary>A grain, from 0 to the number of grains - 1.</summary>
    public abstract int Next(Random random);

    private sealed class Uniform(int grains) : GrainPicker
    {
        public override int Next(Random random) => random.Next(grains);
    }

    /// <summary>
    /// Zipf's law over ranks 1..n (grain = rank - 1) by rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-
    /// inversion to generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996; the form of Apache
    /// Commons' <c>RejectionInversionZipfSampler</c>): O(1) memory and expected time for any n, no table of n weights.
    /// A draw inverts the integral H of h(x) = x^-s over a uniform point, rounds to a rank k, and keeps k unless the
    /// point fell outside the part of the area that belongs to k (rarely: far less than one draw in ten).
    /// </summary>
    internal sealed class Zipf : GrainPicker
    {
        private readonly int _n;
        private readonly double _exponent;
        private readonly double _hIntegralX1;
        private readonly double _hIntegralN;
        private readonly double _s;

        public Zipf(int grains, double exponent)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(grains, 1);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exponent);
            _n = grains;
            _exponent = exponent;
            _hIntegralX1 = HIntegral(1.5) - 1;
            _hIntegralN = HIntegral(grains + 0.5);
            _s = 2 - HIntegralInverse(HIntegral(2.5) - H(2));
        }

        public override int Next(Random random)
        {
            while (true)
            {
                // u is uniform in (_hIntegralX1, _hIntegralN].
                double u = _hIntegralN + (random.NextDouble() * (_hIntegralX1 - _hIntegralN));
                double x = HIntegralInverse(u);
                int k = (int)Math.Clamp(x + 0.5, 1, _n);
                if (k - x <= _s || u >= HIntegral(k + 0.5) - H(k))
                {
                    return k - 1;
                }
            }
        }

        /// <summary>H(x) = (x^(1-s) - 1) / (1 - s), or log x at s = 1, computed stably near s = 1.</summary>
        private double HIntegral(double x)
        {
            double logX = Math.Log(x);
            return Helper2((1 - _exponent) * logX) * logX;
        }

        private double H(double x) => Math.Exp(-_exponent * Math.Log(x));

        private double HIntegralInverse(double x)
        {
            double t = Math.Max(x * (1 - _exponent), -1);
            return Math.Exp(Helper1(t) * x);
        }

        /// <summary>log(1 + x) / x, with its Taylor series near 0.</summary>
        private static double Helper1(double x) =>
            Math.Abs(x) > 1e-8 ? double.LogP1(x) / x : 1 - (x * (0.5 - (x * ((1.0 / 3) - (0.25 * x)))));

        /// <summary>(e^x - 1) / x, with its Taylor series near 0.</summary>
        private static double Helper2(double x) =>
            Math.Abs(x) > 1e-8 ? double.ExpM1(x) / x : 1 + (x * 0.5 * (1 + (x * (1.0 / 3) * (1 + (0.25 * x)))));
    }
}
