/**
 * The one entry to @peculiar/x509: its dependency injection (tsyringe) needs
 * the reflect-metadata polyfill loaded before the library itself.
 */
import 'reflect-metadata';

export * from '@peculiar/x509';
