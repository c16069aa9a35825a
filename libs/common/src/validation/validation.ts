import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { RequestValidationError, type FieldProblem } from '../errors/domain-error';

/** Flattens class-validator errors into one entry per failing field, with a dotted path. */
export function toFieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((reason) => ({ field, reason }));
    return [...own, ...toFieldProblems(error.children ?? [], field)];
  });
}

/** The global pipe: strips nothing silently (unknown fields are refused), converts types, lists every bad field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(toFieldProblems(errors)),
  });
}
