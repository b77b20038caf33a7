@ The MIPS benchmark's integer kernel (benches/mips.rs) as a standalone ELF for
@ QEMU's netduinoplus2 (STM32F405: flash 0x08000000, RAM 0x20000000), exiting
@ through semihosting SYS_EXIT. docs/sim-performance.md compares wall times:
@
@   arm-none-eabi-as -mcpu=cortex-m4 -mthumb kernel-netduinoplus2.s -o k.o
@   arm-none-eabi-ld -Ttext=0x08000100 --section-start=.vectors=0x08000000 k.o -o k.elf
@   qemu-system-arm -M netduinoplus2 -nographic -semihosting-config enable=on,target=native -kernel k.elf
@   cargo run --release -p tinybench-sim --example run_elf -- k.elf 200000000
.syntax unified
.thumb
.section .vectors, "a"
    .word 0x20020000
    .word reset + 1
.text
.global reset
.thumb_func
reset:
    movw r0, #0
    movt r0, #0x2000
    movs r6, #0
    movw r7, #40000
    mov r1, r0
    movs r2, #0
    movw r3, #0x0507
    movt r3, #0x0103
fill:
    mul r4, r2, r3
    str r4, [r1], #4
    adds r2, #1
    cmp r2, #256
    bne fill
    movw r10, #0x8320
    movt r10, #0xedb8
outer:
    mov r1, r0
    movs r2, #0
    mov r3, #256
    mvn r8, #0
inner:
    ldr r4, [r1], #4
    sxtb r5, r4
    asrs r12, r4, #24
    mla r2, r5, r12, r2
    eor r8, r8, r4
    lsrs r9, r8, #1
    it cs
    eorcs r9, r9, r10
    add r8, r9, r8, ror #3
    subs r3, #1
    bne inner
    str r2, [r0, #1024]
    str r8, [r0, #1028]
    adds r6, #1
    cmp r6, r7
    bne outer
    movs r0, #0x18          @ SYS_EXIT
    ldr r1, =0x20026        @ ADP_Stopped_ApplicationExit
    bkpt #0xab
    b .
