// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/acpi.h>
#include <errno.h>
#include <string.h>

#define assert_aml(a, ...)                                                                         \
	do {                                                                                       \
		static const uint8_t want_[] = {__VA_ARGS__};                                      \
		assert_int_equal((a)->len, sizeof(want_));                                         \
		assert_memory_equal((a)->buf, want_, sizeof(want_));                               \
	} while (0)

static void test_pkglen_boundaries(void **state)
{
	uint8_t b[4];

	(void)state;
	assert_int_equal(cvmm_aml_pkglen_encode(63, b), 1);
	assert_int_equal(b[0], 0x3F);
	assert_int_equal(cvmm_aml_pkglen_encode(64, b), 2);
	assert_memory_equal(b, ((uint8_t[]){0x40, 0x04}), 2);
	assert_int_equal(cvmm_aml_pkglen_encode(4095, b), 2);
	assert_memory_equal(b, ((uint8_t[]){0x4F, 0xFF}), 2);
	assert_int_equal(cvmm_aml_pkglen_encode(4096, b), 3);
	assert_memory_equal(b, ((uint8_t[]){0x80, 0x00, 0x01}), 3);
	assert_int_equal(cvmm_aml_pkglen_encode(0xFFFFF, b), 3);
	assert_memory_equal(b, ((uint8_t[]){0x8F, 0xFF, 0xFF}), 3);
	assert_int_equal(cvmm_aml_pkglen_encode(0x100000, b), 4);
	assert_memory_equal(b, ((uint8_t[]){0xC0, 0x00, 0x00, 0x01}), 4);
	assert_int_equal(cvmm_aml_pkglen_encode(0x0FFFFFFF, b), 4);
	assert_int_equal(cvmm_aml_pkglen_encode(0x10000000, b), -E2BIG);
}

/* Decode the PkgLength at p; *n gets its byte count. */
static uint32_t pkglen_decode(const uint8_t *p, int *n)
{
	uint32_t v;

	*n = 1 + (p[0] >> 6);
	if (*n == 1)
		return p[0] & 0x3F;
	v = p[0] & 0x0F;
	for (int i = 1; i < *n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

/* A Package of nr Zero elements: body = count byte + nr bytes. */
static void package_of_zeros(unsigned int nr, int want_bytes)
{
	struct cvmm_aml a;
	int n;

	cvmm_aml_init(&a);
	cvmm_aml_package_begin(&a, 0xFF);
	for (unsigned int i = 0; i < nr; i++)
		cvmm_aml_integer(&a, 0);
	assert_int_equal(cvmm_aml_end(&a), 0);
	assert_int_equal(cvmm_aml_finish(&a), 0);
	assert_int_equal(a.buf[0], 0x12);
	/* The PkgLength covers itself and everything after it. */
	assert_int_equal(pkglen_decode(a.buf + 1, &n), a.len - 1);
	assert_int_equal(n, want_bytes);
	assert_int_equal(a.buf[1 + n], 0xFF);
	cvmm_aml_free(&a);
}

static void test_nested_pkglen_boundaries(void **state)
{
	(void)state;
	package_of_zeros(61, 1);   /* 1 + 1 + 61 = 63 */
	package_of_zeros(62, 2);   /* 64 does not fit one byte: 2 + 63 = 65 */
	package_of_zeros(4092, 2); /* 2 + 4093 = 4095 */
	package_of_zeros(4093, 3); /* 2 + 4094 = 4096 does not fit: 3 bytes */
	package_of_zeros(0x100000, 4);
}

static void test_integers_pick_smallest(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	cvmm_aml_integer(&a, 0);
	cvmm_aml_integer(&a, 1);
	cvmm_aml_integer(&a, 2);
	cvmm_aml_integer(&a, 0xFF);
	cvmm_aml_integer(&a, 0x100);
	cvmm_aml_integer(&a, 0xFFFF);
	cvmm_aml_integer(&a, 0x10000);
	cvmm_aml_integer(&a, 0xFFFFFFFF);
	cvmm_aml_integer(&a, 0x100000000ULL);
	assert_int_equal(cvmm_aml_finish(&a), 0);
	assert_aml(&a, 0x00, 0x01, 0x0A, 0x02, 0x0A, 0xFF, 0x0B, 0x00, 0x01, 0x0B, 0xFF, 0xFF, 0x0C,
		   0x00, 0x00, 0x01, 0x00, 0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 0x0E, 0x00, 0x00, 0x00,
		   0x00, 0x01, 0x00, 0x00, 0x00);
	cvmm_aml_free(&a);
}

static void test_eisaid(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(cvmm_aml_eisaid("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105D041);
	assert_int_equal(cvmm_aml_eisaid("PNP0A03", &v), 0);
	assert_int_equal(v, 0x030AD041);
	assert_int_equal(cvmm_aml_eisaid("LNRO0005", &v), -EINVAL);
	assert_int_equal(cvmm_aml_eisaid("pnp0501", &v), -EINVAL);
	assert_int_equal(cvmm_aml_eisaid("PNP050G", &v), -EINVAL);
	assert_int_equal(cvmm_aml_eisaid("PNP050", &v), -EINVAL);
}

static void test_hid_eisaid_or_string(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	cvmm_aml_hid(&a, "PNP0501");
	cvmm_aml_hid(&a, "LNRO0005");
	assert_int_equal(cvmm_aml_finish(&a), 0);
	assert_aml(&a, 0x0C, 0x41, 0xD0, 0x05, 0x01, 0x0D, 'L', 'N', 'R', 'O', '0', '0', '0', '5',
		   0x00);
	cvmm_aml_free(&a);
	cvmm_aml_init(&a);
	assert_int_equal(cvmm_aml_hid(&a, "TOOLONGID"), -EINVAL);
	cvmm_aml_free(&a);
	cvmm_aml_init(&a);
	assert_int_equal(cvmm_aml_hid(&a, ""), -EINVAL);
	cvmm_aml_free(&a);
}

static void test_name_strings(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	cvmm_aml_name_string(&a, "_S5");
	cvmm_aml_name_string(&a, "\\_SB_.COM1");
	cvmm_aml_name_string(&a, "\\_SB.PCI0.S8");
	cvmm_aml_name_string(&a, "^^X");
	cvmm_aml_name_string(&a, "\\");
	assert_int_equal(cvmm_aml_finish(&a), 0);
	assert_aml(&a, '_', 'S', '5', '_', '\\', 0x2E, '_', 'S', 'B', '_', 'C', 'O', 'M', '1', '\\',
		   0x2F, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', '8', '_', '_', '^', '^',
		   'X', '_', '_', '_', '\\', 0x00);
	cvmm_aml_free(&a);
}

static void test_bad_names_are_sticky(void **state)
{
	static const char *const bad[] = {"", "com1", "ABCDE", "A..B", "A.", "1ABC", "\\^A", "A-B"};
	struct cvmm_aml a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cvmm_aml_init(&a);
		assert_int_equal(cvmm_aml_name_string(&a, bad[i]), -EINVAL);
		/* Later calls do nothing and report the first error. */
		assert_int_equal(cvmm_aml_integer(&a, 7), -EINVAL);
		assert_int_equal(cvmm_aml_finish(&a), -EINVAL);
		assert_int_equal(a.len, 0);
		cvmm_aml_free(&a);
	}
}

static void test_device_with_name(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	cvmm_aml_device_begin(&a, "COM1");
	cvmm_aml_name(&a, "_HID");
	cvmm_aml_hid(&a, "PNP0501");
	assert_int_equal(cvmm_aml_end(&a), 0);
	assert_int_equal(cvmm_aml_finish(&a), 0);
	assert_aml(&a, 0x5B, 0x82, 15, 'C', 'O', 'M', '1', 0x08, '_', 'H', 'I', 'D', 0x0C, 0x41,
		   0xD0, 0x05, 0x01);
	cvmm_aml_free(&a);
}

static void test_scope_and_method(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	cvmm_aml_scope_begin(&a, "\\_SB_");
	cvmm_aml_method_begin(&a, "_STA", 0, false);
	cvmm_aml_return(&a);
	cvmm_aml_integer(&a, 0x0F);
	cvmm_aml_end(&a);
	assert_int_equal(cvmm_aml_end(&a), 0);
	assert_int_equal(cvmm_aml_finish(&a), 0);
	assert_aml(&a, 0x10, 16, '\\', '_', 'S', 'B', '_', 0x14, 9, '_', 'S', 'T', 'A', 0x00, 0xA4,
		   0x0A, 0x0F);
	cvmm_aml_free(&a);
	cvmm_aml_init(&a);
	assert_int_equal(cvmm_aml_method_begin(&a, "M", 8, false), -EINVAL);
	cvmm_aml_free(&a);
}

static void test_resource_template(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	cvmm_aml_resources_begin(&a);
	cvmm_aml_io(&a, 0x3F8, 0x3F8, 1, 8);
	cvmm_aml_memory32_fixed(&a, 0xD0000000, 0x200, true);
	cvmm_aml_ext_irq(&a, 4, 0);
	cvmm_aml_ext_irq(&a, 9, CVMM_AML_IRQ_LEVEL | CVMM_AML_IRQ_ACTIVE_LOW);
	assert_int_equal(cvmm_aml_end(&a), 0);
	assert_int_equal(cvmm_aml_finish(&a), 0);
	/* Descriptors: 8 + 12 + 9 + 9 + EndTag 2 = 40 bytes. */
	assert_aml(&a, 0x11, 43, 0x0A, 40,
		   /* IO(Decode16, 0x3F8, 0x3F8, 1, 8) */
		   0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08,
		   /* Memory32Fixed(ReadWrite, 0xD0000000, 0x200) */
		   0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xD0, 0x00, 0x02, 0x00, 0x00,
		   /* ExtendedInterrupt(Consumer, Edge, ActiveHigh, Exclusive) {4} */
		   0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00,
		   /* ExtendedInterrupt(Consumer, Level, ActiveLow, Exclusive) {9} */
		   0x89, 0x06, 0x00, 0x05, 0x01, 0x09, 0x00, 0x00, 0x00,
		   /* EndTag, checksum 0 */
		   0x79, 0x00);
	cvmm_aml_free(&a);
}

static void test_descriptor_outside_template(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	assert_int_equal(cvmm_aml_ext_irq(&a, 4, 0), -EINVAL);
	cvmm_aml_free(&a);
	cvmm_aml_init(&a);
	cvmm_aml_device_begin(&a, "DEV");
	assert_int_equal(cvmm_aml_io(&a, 0x60, 0x60, 1, 1), -EINVAL);
	cvmm_aml_free(&a);
	cvmm_aml_init(&a);
	cvmm_aml_resources_begin(&a);
	assert_int_equal(cvmm_aml_ext_irq(&a, 4, 0x80), -EINVAL);
	cvmm_aml_free(&a);
}

static void test_unbalanced(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	assert_int_equal(cvmm_aml_end(&a), -EINVAL);
	cvmm_aml_free(&a);
	cvmm_aml_init(&a);
	cvmm_aml_scope_begin(&a, "\\");
	assert_int_equal(cvmm_aml_finish(&a), -EINVAL);
	cvmm_aml_free(&a);
	cvmm_aml_init(&a);
	for (int i = 0; i < CVMM_AML_MAX_DEPTH; i++)
		assert_int_equal(cvmm_aml_package_begin(&a, 1), 0);
	assert_int_equal(cvmm_aml_package_begin(&a, 1), -EINVAL);
	cvmm_aml_free(&a);
}

static void test_string(void **state)
{
	struct cvmm_aml a;

	(void)state;
	cvmm_aml_init(&a);
	cvmm_aml_string(&a, "ab");
	assert_int_equal(cvmm_aml_finish(&a), 0);
	assert_aml(&a, 0x0D, 'a', 'b', 0x00);
	cvmm_aml_free(&a);
	cvmm_aml_init(&a);
	assert_int_equal(cvmm_aml_string(&a, "\xC3\xA9"), -EINVAL);
	cvmm_aml_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkglen_boundaries),
	    cmocka_unit_test(test_nested_pkglen_boundaries),
	    cmocka_unit_test(test_integers_pick_smallest),
	    cmocka_unit_test(test_eisaid),
	    cmocka_unit_test(test_hid_eisaid_or_string),
	    cmocka_unit_test(test_name_strings),
	    cmocka_unit_test(test_bad_names_are_sticky),
	    cmocka_unit_test(test_device_with_name),
	    cmocka_unit_test(test_scope_and_method),
	    cmocka_unit_test(test_resource_template),
	    cmocka_unit_test(test_descriptor_outside_template),
	    cmocka_unit_test(test_unbalanced),
	    cmocka_unit_test(test_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
