    #[test]
    fn alu_and_core_integer() {
        let cases: &[AluCase] = &[
            AluCase {
                name: "adds_imm3",
                code: &[
                0x1c48, // adds r0, r1, #1
                ],
                init: &[(1, 0x5)],
                expect: &[(0, 0x6)],
                flags: Some("nzcv"),
            },
            AluCase {
                name: "adds_reg_carry",
                code: &[
                0x1888, // adds r0, r1, r2
                ],
                init: &[(1, 0xffffffff), (2, 0x1)],
                expect: &[(0, 0x0)],
                flags: Some("nZCv"),
            },
            AluCase {
                name: "subs_borrow",
                code: &[
                0x1a88, // subs r0, r1, r2
                ],
                init: &[(1, 0x1), (2, 0x2)],
                expect: &[(0, 0xffffffff)],
                flags: Some("Nzcv"),
            },
            AluCase {
                name: "cmp_equal",
                code: &[
                0x4291, // cmp r1, r2
                ],
                init: &[(1, 0x5), (2, 0x5)],
                expect: &[],
                flags: Some("nZCv"),
            },
            AluCase {
                name: "adds_overflow",
                code: &[
                0x1888, // adds r0, r1, r2
                ],
                init: &[(1, 0x7fffffff), (2, 0x1)],
                expect: &[(0, 0x80000000)],
                flags: Some("NzcV"),
            },
            AluCase {
                name: "movs_zero",
                code: &[
                0x2000, // movs r0, #0
                ],
                init: &[(0, 0x7)],
                expect: &[(0, 0x0)],
                flags: Some("nZcv"),
            },
            AluCase {
                name: "mov_w_replicated_imm",
                code: &[
                0xf04f, 0x10ff, // mov.w r0, #16711935
                ],
                init: &[],
                expect: &[(0, 0xff00ff)],
                flags: None,
            },
            AluCase {
                name: "mvn_imm",
                code: &[
                0xf06f, 0x0000, // mvn r0, #0
                ],
                init: &[],
                expect: &[(0, 0xffffffff)],
                flags: None,
            },
            AluCase {
                name: "movw_movt",
                code: &[
                0xf241, 0x2034, // movw r0, #4660
                0xf6ca, 0x30cd, // movt r0, #43981
                ],
                init: &[],
                expect: &[(0, 0xabcd1234)],
                flags: None,
            },
            AluCase {
                name: "addw",
                code: &[
                0xf601, 0x70ff, // addw r0, r1, #4095
                ],
                init: &[(1, 0x1)],
                expect: &[(0, 0x1000)],
                flags: None,
            },
            AluCase {
                name: "subw_no_flags",
                code: &[
                0xf2a1, 0x0001, // subw r0, r1, #1
                ],
                init: &[(1, 0x0)],
                expect: &[(0, 0xffffffff)],
                flags: Some("nzcv"),
            },
            AluCase {
                name: "lsls_imm_carry",
                code: &[
                0x0048, // lsls r0, r1, #1
                ],
                init: &[(1, 0x80000001)],
                expect: &[(0, 0x2)],
                flags: Some("nzCv"),
            },
            AluCase {
                name: "lsrs_imm_carry",
                code: &[
                0x0848, // lsrs r0, r1, #1
                ],
                init: &[(1, 0x3)],
                expect: &[(0, 0x1)],
                flags: Some("nzCv"),
            },
            AluCase {
                name: "asrs_imm",
                code: &[
                0x1108, // asrs r0, r1, #4
                ],
                init: &[(1, 0x80000000)],
                expect: &[(0, 0xf8000000)],
                flags: Some("Nzcv"),
            },
            AluCase {
                name: "ror_w_imm",
                code: &[
                0xea4f, 0x1031, // ror.w r0, r1, #4
                ],
                init: &[(1, 0x12345678)],
                expect: &[(0, 0x81234567)],
                flags: None,
            },
            AluCase {
                name: "rrx_uses_carry",
                code: &[
                0x4280, // cmp r0, r0
                0xea4f, 0x0031, // rrx r0, r1
                ],
                init: &[(1, 0x2)],
                expect: &[(0, 0x80000001)],
                flags: None,
            },
            AluCase {
                name: "lsl_reg_33",
                code: &[
                0xfa01, 0xf002, // lsl.w r0, r1, r2
                ],
                init: &[(1, 0x1), (2, 0x21)],
                expect: &[(0, 0x0)],
                flags: None,
            },
            AluCase {
                name: "lsrs_reg_16bit",
                code: &[
                0x40d1, // lsrs r1, r2
                ],
                init: &[(1, 0x80000000), (2, 0x1f)],
                expect: &[(1, 0x1)],
                flags: Some("nzcv"),
            },
            AluCase {
                name: "ands_rotated_imm_carry",
                code: &[
                0xf011, 0x4000, // ands r0, r1, #2147483648
                ],
                init: &[(1, 0x80000001)],
                expect: &[(0, 0x80000000)],
                flags: Some("NzCv"),
            },
            AluCase {
                name: "orr_shifted",
                code: &[
                0xea41, 0x1002, // orr.w r0, r1, r2, lsl #4
                ],
                init: &[(1, 0x1), (2, 0x1)],
                expect: &[(0, 0x11)],
                flags: None,
            },
            AluCase {
                name: "orn_reg",
                code: &[
                0xea61, 0x0002, // orn r0, r1, r2
                ],
                init: &[(1, 0x0), (2, 0xffff0000)],
                expect: &[(0, 0xffff)],
                flags: None,
            },
            AluCase {
                name: "bic_imm",
                code: &[
                0xf021, 0x00ff, // bic r0, r1, #255
                ],
                init: &[(1, 0x1234)],
                expect: &[(0, 0x1200)],
                flags: None,
            },
            AluCase {
                name: "eor_ror",
                code: &[
                0xea81, 0x2032, // eor.w r0, r1, r2, ror #8
                ],
                init: &[(1, 0x0), (2, 0x12)],
                expect: &[(0, 0x12000000)],
                flags: None,
            },
            AluCase {
                name: "adc_carry_in",
                code: &[
                0x4280, // cmp r0, r0
                0xeb41, 0x0002, // adc.w r0, r1, r2
                ],
                init: &[(1, 0x1), (2, 0x2)],
                expect: &[(0, 0x4)],
                flags: None,
            },
            AluCase {
                name: "sbc_borrow_in",
                code: &[
                0x1c1b, // adds r3, r3, #0
                0xeb61, 0x0002, // sbc.w r0, r1, r2
                ],
                init: &[(1, 0x5), (2, 0x2), (3, 0x0)],
                expect: &[(0, 0x2)],
                flags: None,
            },
            AluCase {
                name: "rsb_imm",
                code: &[
                0xf1c1, 0x000a, // rsb.w r0, r1, #10
                ],
                init: &[(1, 0x3)],
                expect: &[(0, 0x7)],
                flags: None,
            },
            AluCase {
                name: "negs",
                code: &[
                0x4248, // rsbs r0, r1, #0
                ],
                init: &[(1, 0x1)],
                expect: &[(0, 0xffffffff)],
                flags: Some("Nzcv"),
            },
            AluCase {
                name: "teq_equal",
                code: &[
                0xea91, 0x0f02, // teq.w r1, r2
                ],
                init: &[(1, 0x5), (2, 0x5)],
                expect: &[],
                flags: Some("nZcv"),
            },
            AluCase {
                name: "tst_imm",
                code: &[
                0xf011, 0x0f01, // tst.w r1, #1
                ],
                init: &[(1, 0x2)],
                expect: &[],
                flags: Some("nZcv"),
            },
            AluCase {
                name: "cmn_wrap",
                code: &[
                0x42d1, // cmn r1, r2
                ],
                init: &[(1, 0x1), (2, 0xffffffff)],
                expect: &[],
                flags: Some("nZCv"),
            },
            AluCase {
                name: "add_sp_imm",
                code: &[
                0xa802, // add r0, sp, #8
                ],
                init: &[(13, 0x20001000)],
                expect: &[(0, 0x20001008)],
                flags: None,
            },
            AluCase {
                name: "sub_sp_imm",
                code: &[
                0xb084, // sub sp, #16
                ],
                init: &[(13, 0x20001000)],
                expect: &[(13, 0x20000ff0)],
                flags: None,
            },
            AluCase {
                name: "add_high_regs",
                code: &[
                0x4488, // add r8, r1
                ],
                init: &[(8, 0x2), (1, 0x3)],
                expect: &[(8, 0x5)],
                flags: None,
            },
            AluCase {
                name: "mov_high",
                code: &[
                0x4689, // mov r9, r1
                ],
                init: &[(1, 0x4d)],
                expect: &[(9, 0x4d)],
                flags: None,
            },
            AluCase {
                name: "mul",
                code: &[
                0xfb01, 0xf002, // mul r0, r1, r2
                ],
                init: &[(1, 0x3), (2, 0x4)],
                expect: &[(0, 0xc)],
                flags: None,
            },
            AluCase {
                name: "muls_16bit_zero",
                code: &[
                0x4348, // muls r0, r1, r0
                ],
                init: &[(0, 0x0), (1, 0x9)],
                expect: &[(0, 0x0)],
                flags: Some("nZcv"),
            },
            AluCase {
                name: "mla",
                code: &[
                0xfb01, 0x3002, // mla r0, r1, r2, r3
                ],
                init: &[(1, 0x3), (2, 0x4), (3, 0x5)],
                expect: &[(0, 0x11)],
                flags: None,
            },
            AluCase {
                name: "mls",
                code: &[
                0xfb01, 0x3012, // mls r0, r1, r2, r3
                ],
                init: &[(1, 0x3), (2, 0x4), (3, 0x5)],
                expect: &[(0, 0xfffffff9)],
                flags: None,
            },
            AluCase {
                name: "umull",
                code: &[
                0xfba2, 0x0103, // umull r0, r1, r2, r3
                ],
                init: &[(2, 0xffffffff), (3, 0x2)],
                expect: &[(0, 0xfffffffe), (1, 0x1)],
                flags: None,
            },
            AluCase {
                name: "smull",
                code: &[
                0xfb82, 0x0103, // smull r0, r1, r2, r3
                ],
                init: &[(2, 0xffffffff), (3, 0x2)],
                expect: &[(0, 0xfffffffe), (1, 0xffffffff)],
                flags: None,
            },
            AluCase {
                name: "umlal",
                code: &[
                0xfbe2, 0x0103, // umlal r0, r1, r2, r3
                ],
                init: &[(0, 0x1), (1, 0x0), (2, 0xffffffff), (3, 0x1)],
                expect: &[(0, 0x0), (1, 0x1)],
                flags: None,
            },
            AluCase {
                name: "smlal",
                code: &[
                0xfbc2, 0x0103, // smlal r0, r1, r2, r3
                ],
                init: &[(0, 0x0), (1, 0x0), (2, 0xfffffffe), (3, 0x3)],
                expect: &[(0, 0xfffffffa), (1, 0xffffffff)],
                flags: None,
            },
            AluCase {
                name: "umaal",
                code: &[
                0xfbe2, 0x0163, // umaal r0, r1, r2, r3
                ],
                init: &[(0, 0x1), (1, 0x2), (2, 0x3), (3, 0x4)],
                expect: &[(0, 0xf), (1, 0x0)],
                flags: None,
            },
            AluCase {
                name: "sdiv",
                code: &[
                0xfb91, 0xf0f2, // sdiv r0, r1, r2
                ],
                init: &[(1, 0xfffffff9), (2, 0x2)],
                expect: &[(0, 0xfffffffd)],
                flags: None,
            },
            AluCase {
                name: "udiv_by_zero",
                code: &[
                0xfbb1, 0xf0f2, // udiv r0, r1, r2
                ],
                init: &[(0, 0x5), (1, 0x7), (2, 0x0)],
                expect: &[(0, 0x0)],
                flags: None,
            },
            AluCase {
                name: "sdiv_overflow",
                code: &[
                0xfb91, 0xf0f2, // sdiv r0, r1, r2
                ],
                init: &[(1, 0x80000000), (2, 0xffffffff)],
                expect: &[(0, 0x80000000)],
                flags: None,
            },
            AluCase {
                name: "bfi",
                code: &[
                0xf361, 0x200b, // bfi r0, r1, #8, #4
                ],
                init: &[(0, 0xffffffff), (1, 0x0)],
                expect: &[(0, 0xfffff0ff)],
                flags: None,
            },
            AluCase {
                name: "bfc",
                code: &[
                0xf36f, 0x0003, // bfc r0, #0, #4
                ],
                init: &[(0, 0xff)],
                expect: &[(0, 0xf0)],
                flags: None,
            },
            AluCase {
                name: "ubfx",
                code: &[
                0xf3c1, 0x1007, // ubfx r0, r1, #4, #8
                ],
                init: &[(1, 0x12345678)],
                expect: &[(0, 0x67)],
                flags: None,
            },
            AluCase {
                name: "sbfx",
                code: &[
                0xf341, 0x1003, // sbfx r0, r1, #4, #4
                ],
                init: &[(1, 0x80)],
                expect: &[(0, 0xfffffff8)],
                flags: None,
            },
            AluCase {
                name: "ubfx_full_width",
                code: &[
                0xf3c1, 0x001f, // ubfx r0, r1, #0, #32
                ],
                init: &[(1, 0xdeadbeef)],
                expect: &[(0, 0xdeadbeef)],
                flags: None,
            },
            AluCase {
                name: "clz",
                code: &[
                0xfab1, 0xf081, // clz r0, r1
                ],
                init: &[(1, 0x1)],
                expect: &[(0, 0x1f)],
                flags: None,
            },
            AluCase {
                name: "clz_zero",
                code: &[
                0xfab1, 0xf081, // clz r0, r1
                ],
                init: &[(1, 0x0)],
                expect: &[(0, 0x20)],
                flags: None,
            },
            AluCase {
                name: "rbit",
                code: &[
                0xfa91, 0xf0a1, // rbit r0, r1
                ],
                init: &[(1, 0x1)],
                expect: &[(0, 0x80000000)],
                flags: None,
            },
            AluCase {
                name: "rev",
                code: &[
                0xba08, // rev r0, r1
                ],
                init: &[(1, 0x12345678)],
                expect: &[(0, 0x78563412)],
                flags: None,
            },
            AluCase {
                name: "rev16",
                code: &[
                0xba48, // rev16 r0, r1
                ],
                init: &[(1, 0x12345678)],
                expect: &[(0, 0x34127856)],
                flags: None,
            },
            AluCase {
                name: "revsh",
                code: &[
                0xbac8, // revsh r0, r1
                ],
                init: &[(1, 0x1280)],
                expect: &[(0, 0xffff8012)],
                flags: None,
            },
            AluCase {
                name: "sxtb",
                code: &[
                0xb248, // sxtb r0, r1
                ],
                init: &[(1, 0x80)],
                expect: &[(0, 0xffffff80)],
                flags: None,
            },
            AluCase {
                name: "uxth",
                code: &[
                0xb288, // uxth r0, r1
                ],
                init: &[(1, 0x12345678)],
                expect: &[(0, 0x5678)],
                flags: None,
            },
            AluCase {
                name: "sxth_ror16",
                code: &[
                0xfa0f, 0xf0a1, // sxth.w r0, r1, ror #16
                ],
                init: &[(1, 0x80001234)],
                expect: &[(0, 0xffff8000)],
                flags: None,
            },
            AluCase {
                name: "uxtab",
                code: &[
                0xfa51, 0xf082, // uxtab r0, r1, r2
                ],
                init: &[(1, 0x100), (2, 0x1ff)],
                expect: &[(0, 0x1ff)],
                flags: None,
            },
            AluCase {
                name: "sxtah",
                code: &[
                0xfa01, 0xf082, // sxtah r0, r1, r2
                ],
                init: &[(1, 0x1), (2, 0xffff)],
                expect: &[(0, 0x0)],
                flags: None,
            },
            AluCase {
                name: "sxtb16",
                code: &[
                0xfa2f, 0xf081, // sxtb16 r0, r1
                ],
                init: &[(1, 0x800080)],
                expect: &[(0, 0xff80ff80)],
                flags: None,
            },
            AluCase {
                name: "uxtb16",
                code: &[
                0xfa3f, 0xf081, // uxtb16 r0, r1
                ],
                init: &[(1, 0x12345678)],
                expect: &[(0, 0x340078)],
                flags: None,
            },
            AluCase {
                name: "uxtab16",
                code: &[
                0xfa31, 0xf082, // uxtab16 r0, r1, r2
                ],
                init: &[(1, 0x1ffff), (2, 0x20001)],
                expect: &[(0, 0x30000)],
                flags: None,
            },
            AluCase {
                name: "ssat_saturates_sets_q",
                code: &[
                0xf301, 0x0007, // ssat r0, #8, r1
                ],
                init: &[(1, 0x12c)],
                expect: &[(0, 0x7f)],
                flags: Some("nzcvQ"),
            },
            AluCase {
                name: "usat_negative",
                code: &[
                0xf381, 0x0008, // usat r0, #8, r1
                ],
                init: &[(1, 0xfffffffb)],
                expect: &[(0, 0x0)],
                flags: Some("nzcvQ"),
            },
            AluCase {
                name: "ssat_shift_no_q",
                code: &[
                0xf301, 0x100f, // ssat r0, #16, r1, lsl #4
                ],
                init: &[(1, 0x100)],
                expect: &[(0, 0x1000)],
                flags: Some("nzcvq"),
            },
            AluCase {
                name: "ssat16",
                code: &[
                0xf321, 0x0007, // ssat16 r0, #8, r1
                ],
                init: &[(1, 0x100ff00)],
                expect: &[(0, 0x7fff80)],
                flags: Some("nzcvQ"),
            },
            AluCase {
                name: "usat16",
                code: &[
                0xf3a1, 0x0008, // usat16 r0, #8, r1
                ],
                init: &[(1, 0x100fff0)],
                expect: &[(0, 0xff0000)],
                flags: Some("nzcvQ"),
            },
        ];
        run_alu_cases(cases);
    }

    #[test]
    fn dsp_extension() {
        let cases: &[AluCase] = &[
            AluCase {
                name: "smulbb",
                code: &[
                0xfb11, 0xf002, // smulbb r0, r1, r2
                ],
                init: &[(1, 0x3fffe), (2, 0x50004)],
                expect: &[(0, 0xfffffff8)],
                flags: None,
            },
            AluCase {
                name: "smultt",
                code: &[
                0xfb11, 0xf032, // smultt r0, r1, r2
                ],
                init: &[(1, 0x3fffe), (2, 0x50004)],
                expect: &[(0, 0xf)],
                flags: None,
            },
            AluCase {
                name: "smulbt",
                code: &[
                0xfb11, 0xf012, // smulbt r0, r1, r2
                ],
                init: &[(1, 0x3fffe), (2, 0x50004)],
                expect: &[(0, 0xfffffff6)],
                flags: None,
            },
            AluCase {
                name: "smlabb",
                code: &[
                0xfb11, 0x3002, // smlabb r0, r1, r2, r3
                ],
                init: &[(1, 0x3fffe), (2, 0x50004), (3, 0xa)],
                expect: &[(0, 0x2)],
                flags: Some("nzcvq"),
            },
            AluCase {
                name: "smlabb_overflow_sets_q",
                code: &[
                0xfb11, 0x3002, // smlabb r0, r1, r2, r3
                ],
                init: &[(1, 0x8000), (2, 0x8000), (3, 0x7fffffff)],
                expect: &[(0, 0xbfffffff)],
                flags: Some("nzcvQ"),
            },
            AluCase {
                name: "smulwb",
                code: &[
                0xfb31, 0xf002, // smulwb r0, r1, r2
                ],
                init: &[(1, 0x10000), (2, 0x2)],
                expect: &[(0, 0x2)],
                flags: None,
            },
            AluCase {
                name: "smlawt",
                code: &[
                0xfb31, 0x3012, // smlawt r0, r1, r2, r3
                ],
                init: &[(1, 0x10000), (2, 0x30000), (3, 0x1)],
                expect: &[(0, 0x4)],
                flags: None,
            },
            AluCase {
                name: "smlad",
                code: &[
                0xfb21, 0x3002, // smlad r0, r1, r2, r3
                ],
                init: &[(1, 0x20003), (2, 0x40005), (3, 0x1)],
                expect: &[(0, 0x18)],
                flags: None,
            },
            AluCase {
                name: "smladx",
                code: &[
                0xfb21, 0x3012, // smladx r0, r1, r2, r3
                ],
                init: &[(1, 0x20003), (2, 0x40005), (3, 0x1)],
                expect: &[(0, 0x17)],
                flags: None,
            },
            AluCase {
                name: "smlsd",
                code: &[
                0xfb41, 0x3002, // smlsd r0, r1, r2, r3
                ],
                init: &[(1, 0x20003), (2, 0x40005), (3, 0x1)],
                expect: &[(0, 0x8)],
                flags: None,
            },
            AluCase {
                name: "smuad",
                code: &[
                0xfb21, 0xf002, // smuad r0, r1, r2
                ],
                init: &[(1, 0x20003), (2, 0x40005)],
                expect: &[(0, 0x17)],
                flags: None,
            },
            AluCase {
                name: "smusd",
                code: &[
                0xfb41, 0xf002, // smusd r0, r1, r2
                ],
                init: &[(1, 0x20003), (2, 0x40005)],
                expect: &[(0, 0x7)],
                flags: None,
            },
            AluCase {
                name: "smuad_overflow_q",
                code: &[
                0xfb21, 0xf002, // smuad r0, r1, r2
                ],
                init: &[(1, 0x80008000), (2, 0x80008000)],
                expect: &[(0, 0x80000000)],
                flags: Some("nzcvQ"),
            },
            AluCase {
                name: "smlald",
                code: &[
                0xfbc2, 0x01c3, // smlald r0, r1, r2, r3
                ],
                init: &[(0, 0x1), (1, 0x0), (2, 0x20003), (3, 0x40005)],
                expect: &[(0, 0x18), (1, 0x0)],
                flags: None,
            },
            AluCase {
                name: "smlsldx",
                code: &[
                0xfbd2, 0x01d3, // smlsldx r0, r1, r2, r3
                ],
                init: &[(0, 0x0), (1, 0x0), (2, 0x20003), (3, 0x40005)],
                expect: &[(0, 0x2), (1, 0x0)],
                flags: None,
            },
            AluCase {
                name: "smlalbb",
                code: &[
                0xfbc2, 0x0183, // smlalbb r0, r1, r2, r3
                ],
                init: &[(0, 0x0), (1, 0x0), (2, 0xffff), (3, 0x2)],
                expect: &[(0, 0xfffffffe), (1, 0xffffffff)],
                flags: None,
            },
            AluCase {
                name: "smmul",
                code: &[
                0xfb51, 0xf002, // smmul r0, r1, r2
                ],
                init: &[(1, 0x40000000), (2, 0x4)],
                expect: &[(0, 0x1)],
                flags: None,
            },
            AluCase {
                name: "smmul_truncates",
                code: &[
                0xfb51, 0xf002, // smmul r0, r1, r2
                ],
                init: &[(1, 0x80000000), (2, 0x1)],
                expect: &[(0, 0xffffffff)],
                flags: None,
            },
            AluCase {
                name: "smmulr_rounds",
                code: &[
                0xfb51, 0xf012, // smmulr r0, r1, r2
                ],
                init: &[(1, 0x80000000), (2, 0x1)],
                expect: &[(0, 0x0)],
                flags: None,
            },
            AluCase {
                name: "smmla",
                code: &[
                0xfb51, 0x3002, // smmla r0, r1, r2, r3
                ],
                init: &[(1, 0x40000000), (2, 0x4), (3, 0x5)],
                expect: &[(0, 0x6)],
                flags: None,
            },
            AluCase {
                name: "smmls",
                code: &[
                0xfb61, 0x3002, // smmls r0, r1, r2, r3
                ],
                init: &[(1, 0x40000000), (2, 0x4), (3, 0x5)],
                expect: &[(0, 0x4)],
                flags: None,
            },
            AluCase {
                name: "qadd_saturates",
                code: &[
                0xfa82, 0xf081, // qadd r0, r1, r2
                ],
                init: &[(1, 0x7fffffff), (2, 0x1)],
                expect: &[(0, 0x7fffffff)],
                flags: Some("nzcvQ"),
            },
            AluCase {
                name: "qsub_saturates",
                code: &[
                0xfa82, 0xf0a1, // qsub r0, r1, r2
                ],
                init: &[(1, 0x80000000), (2, 0x1)],
                expect: &[(0, 0x80000000)],
                flags: Some("nzcvQ"),
            },
            AluCase {
                name: "qsub_plain",
                code: &[
                0xfa82, 0xf0a1, // qsub r0, r1, r2
                ],
                init: &[(1, 0xa), (2, 0x3)],
                expect: &[(0, 0x7)],
                flags: Some("nzcvq"),
            },
            AluCase {
                name: "qdadd",
                code: &[
                0xfa82, 0xf091, // qdadd r0, r1, r2
                ],
                init: &[(1, 0x1), (2, 0x40000000)],
                expect: &[(0, 0x7fffffff)],
                flags: Some("nzcvQ"),
            },
            AluCase {
                name: "sadd16_ge",
                code: &[
                0xfa91, 0xf002, // sadd16 r0, r1, r2
                ],
                init: &[(1, 0x7fff0001), (2, 0x10001)],
                expect: &[(0, 0x80000002)],
                flags: Some("GE1111"),
            },
            AluCase {
                name: "ssub16_ge",
                code: &[
                0xfad1, 0xf002, // ssub16 r0, r1, r2
                ],
                init: &[(1, 0x1), (2, 0x10002)],
                expect: &[(0, 0xffffffff)],
                flags: Some("GE0000"),
            },
            AluCase {
                name: "uadd8_ge",
                code: &[
                0xfa81, 0xf042, // uadd8 r0, r1, r2
                ],
                init: &[(1, 0xff0000ff), (2, 0x1000001)],
                expect: &[(0, 0x0)],
                flags: Some("GE1001"),
            },
            AluCase {
                name: "usub8_ge",
                code: &[
                0xfac1, 0xf042, // usub8 r0, r1, r2
                ],
                init: &[(1, 0x1020304), (2, 0x2020202)],
                expect: &[(0, 0xff000102)],
                flags: Some("GE0111"),
            },
            AluCase {
                name: "qadd8",
                code: &[
                0xfa81, 0xf012, // qadd8 r0, r1, r2
                ],
                init: &[(1, 0x7f7f7f7f), (2, 0x1010101)],
                expect: &[(0, 0x7f7f7f7f)],
                flags: None,
            },
            AluCase {
                name: "uqsub16",
                code: &[
                0xfad1, 0xf052, // uqsub16 r0, r1, r2
                ],
                init: &[(1, 0x10005), (2, 0x20003)],
                expect: &[(0, 0x2)],
                flags: None,
            },
            AluCase {
                name: "shadd16",
                code: &[
                0xfa91, 0xf022, // shadd16 r0, r1, r2
                ],
                init: &[(1, 0x40006), (2, 0x20002)],
                expect: &[(0, 0x30004)],
                flags: None,
            },
            AluCase {
                name: "uhsub8",
                code: &[
                0xfac1, 0xf062, // uhsub8 r0, r1, r2
                ],
                init: &[(1, 0x4), (2, 0x2)],
                expect: &[(0, 0x1)],
                flags: None,
            },
            AluCase {
                name: "sasx",
                code: &[
                0xfaa1, 0xf002, // sasx r0, r1, r2
                ],
                init: &[(1, 0x50003), (2, 0x10002)],
                expect: &[(0, 0x70002)],
                flags: Some("GE1111"),
            },
            AluCase {
                name: "ssax",
                code: &[
                0xfae1, 0xf002, // ssax r0, r1, r2
                ],
                init: &[(1, 0x50003), (2, 0x10002)],
                expect: &[(0, 0x30004)],
                flags: Some("GE1111"),
            },
            AluCase {
                name: "sel_after_uadd8",
                code: &[
                0xfa84, 0xf345, // uadd8 r3, r4, r5
                0xfaa1, 0xf082, // sel r0, r1, r2
                ],
                init: &[(4, 0xff0000ff), (5, 0x1000001), (1, 0x11223344), (2, 0xaabbccdd)],
                expect: &[(0, 0x11bbcc44)],
                flags: None,
            },
            AluCase {
                name: "usad8",
                code: &[
                0xfb71, 0xf002, // usad8 r0, r1, r2
                ],
                init: &[(1, 0x1020304), (2, 0x4030201)],
                expect: &[(0, 0x8)],
                flags: None,
            },
            AluCase {
                name: "usada8",
                code: &[
                0xfb71, 0x3002, // usada8 r0, r1, r2, r3
                ],
                init: &[(1, 0x1020304), (2, 0x4030201), (3, 0x2)],
                expect: &[(0, 0xa)],
                flags: None,
            },
            AluCase {
                name: "pkhbt",
                code: &[
                0xeac1, 0x4002, // pkhbt r0, r1, r2, lsl #16
                ],
                init: &[(1, 0x1111aaaa), (2, 0xbbbb)],
                expect: &[(0, 0xbbbbaaaa)],
                flags: None,
            },
            AluCase {
                name: "pkhtb",
                code: &[
                0xeac1, 0x4022, // pkhtb r0, r1, r2, asr #16
                ],
                init: &[(1, 0xaaaa1111), (2, 0xbbbb0000)],
                expect: &[(0, 0xaaaabbbb)],
                flags: None,
            },
        ];
        run_alu_cases(cases);
    }

