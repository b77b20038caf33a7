/* Reset and fault entry of the C test programs: a 16-entry vector table,
 * FPU enable, .data copy, then newlib's _start (rdimon-crt0). */

#include <stdint.h>
#include <stdio.h>

extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __stack[];
extern void _start(void);
extern void _exit(int status);

/* SCB->CPACR: CP10 and CP11 (the FPU) get full access in bits 20..23. */
#define CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
    CPACR |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t *src = __data_load__, *dst = __data_start__; dst < __data_end__;) {
        *dst++ = *src++;
    }
    _start();
    for (;;) {
    }
}

/* Any other exception is a test failure: name it and the stacked PC, then
 * stop with a status no test uses. */
void Fault_Report(const uint32_t *frame)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    printf("unexpected exception %lu at pc 0x%08lx\n", (unsigned long)(ipsr & 0x1FF), (unsigned long)frame[6]);
    _exit(99);
}

__attribute__((naked)) void Default_Handler(void)
{
    __asm volatile("mrs r0, msp\n\tb Fault_Report");
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))__stack, /* initial SP */
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
};
