/*
 * `zrtpshim verify`: the keyless content statistics, the chi-square
 * z-score of a payload's bytes and the entropy of a direction's payload
 * bytes (no libm: the tool links without it).
 */
#include "tools/verify_int.h"

static double sqrt_pos(double x)
{
	if (x <= 0.0)
		return 0.0;
	double r = x > 1.0 ? x : 1.0;
	for (int i = 0; i < 64; i++) {
		double n = 0.5 * (r + x / r);
		if (n >= r)
			break;
		r = n;
	}
	return r;
}

/* log2 for x > 0: scale into [1, 2), then ln(m) = 2 atanh((m-1)/(m+1)). */
static double log2_pos(double x)
{
	int e = 0;
	while (x >= 2.0) {
		x *= 0.5;
		e++;
	}
	while (x < 1.0) {
		x *= 2.0;
		e--;
	}
	double y = (x - 1.0) / (x + 1.0), y2 = y * y, term = y, sum = 0.0;
	for (int k = 1; k < 60; k += 2) {
		sum += term / k;
		term *= y2;
	}
	return e + 2.0 * sum / 0.69314718055994530942;
}

double verify_payload_z(const uint8_t *p, size_t len)
{
	if (len < 2)
		return 0.0;
	unsigned hist[256] = { 0 };
	for (size_t i = 0; i < len; i++)
		hist[p[i]]++;
	double e = (double)len / 256.0, x2 = 0.0;
	for (int i = 0; i < 256; i++) {
		double d = hist[i] - e;
		x2 += d * d / e;
	}
	/* Var(X²) = 2(k-1)(1-1/n) under a uniform source (k = 256 bins). */
	double sd = sqrt_pos(2.0 * 255.0 * (1.0 - 1.0 / (double)len));
	return (x2 - 255.0) / sd;
}

double verify_entropy(const uint64_t hist[256], uint64_t total)
{
	if (total == 0)
		return 0.0;
	double h = 0.0;
	for (int i = 0; i < 256; i++) {
		if (hist[i] == 0)
			continue;
		double q = (double)hist[i] / (double)total;
		h -= q * log2_pos(q);
	}
	return h;
}
